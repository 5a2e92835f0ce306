"""Drafts, edits, proposal and copies of definition versions (scoring.services)."""

import datetime

import pytest
from django.utils import timezone

from leadhandoff.api import ApplicationError
from scoring import services
from scoring.models import Approval, Comment, DefinitionVersion
from tests.scoring.definition_helpers import (
    FIT_BIG_COMPANY,
    make_active,
    make_draft,
    make_proposed,
    sample_rules,
    save_edit,
)

pytestmark = pytest.mark.django_db


def test_a_new_draft_is_numbered_after_the_highest_version_and_keeps_its_author(cast):
    first = make_draft(cast.marketer)
    second = make_draft(cast.rep)
    assert (first.number, second.number) == (1, 2)
    assert second.state == DefinitionVersion.State.DRAFT
    assert second.author == cast.rep
    assert second.revision == 1


def test_a_draft_stores_rules_normalised_by_the_rule_schema(cast):
    version = make_draft(
        cast.marketer, rules=[{"type": "fit", "field": "country", "op": "one_of", "value": "US, CA", "points": 5}]
    )
    [rule] = version.rules
    assert rule["value"] == ["US", "CA"]
    assert rule["id"]  # an id is given so diffs and explanations can name the rule
    assert rule["label"]


def test_bad_rules_are_refused_with_messages_naming_each_rule_and_nothing_is_stored(cast):
    bad = [dict(FIT_BIG_COMPANY), {"type": "fit", "field": "shoe_size", "op": "equals", "value": "9", "points": 1}]
    with pytest.raises(ApplicationError) as exc:
        make_draft(cast.marketer, rules=bad)
    assert exc.value.fields["rules"] == ["Rule 2: unknown field 'shoe_size'."]
    assert DefinitionVersion.objects.count() == 0


def test_a_threshold_that_is_not_a_number_is_refused_on_the_threshold_field(cast):
    with pytest.raises(ApplicationError) as exc:
        make_draft(cast.marketer, threshold="lots")
    assert "threshold" in exc.value.fields


def test_an_edit_bumps_the_revision_and_is_written_to_the_thread_with_what_changed(cast):
    version = make_draft(cast.marketer, threshold=50)
    save_edit(version, cast.manager, revision=1, threshold=70, title="Stricter")
    version.refresh_from_db()
    assert (version.revision, version.threshold, version.title) == (2, 70, "Stricter")
    edit = Comment.objects.get(version=version, data__event="edited")
    assert edit.author == cast.manager
    assert "Threshold: 50 → 70" in edit.body
    assert edit.data["before"]["threshold"] == 50


def test_only_draft_and_proposed_versions_can_be_edited(cast):
    active = make_active(cast.marketer, cast.rep)
    with pytest.raises(ApplicationError, match="can no longer be edited"):
        save_edit(active, cast.marketer, threshold=1)
    active.refresh_from_db()
    assert active.threshold == 50


def test_proposing_moves_a_draft_to_proposed_and_records_it(cast):
    version = make_draft(cast.rep)
    services.definition_propose(version=version, actor=cast.rep, now=timezone.now())
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.PROPOSED
    assert version.proposed_at is not None
    assert Comment.objects.filter(version=version, data__event="proposed", author=cast.rep).exists()


def test_a_draft_without_rules_cannot_be_proposed(cast):
    version = make_draft(cast.marketer, rules=[])
    with pytest.raises(ApplicationError, match="at least one rule"):
        services.definition_propose(version=version, actor=cast.marketer, now=timezone.now())


def test_only_a_draft_can_be_proposed(cast):
    version = make_proposed(cast.marketer)
    with pytest.raises(ApplicationError, match="only a draft"):
        services.definition_propose(version=version, actor=cast.marketer, now=timezone.now())


def test_editing_a_proposed_version_keeps_it_proposed_and_withdraws_its_approvals(cast):
    version = make_proposed(cast.marketer)
    services.definition_approve(version=version, actor=cast.marketer, now=timezone.now())
    save_edit(version, cast.rep, threshold=60)
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.PROPOSED
    approval = Approval.objects.get(version=version)
    assert approval.withdrawn_at is not None
    assert "1 approval withdrawn" in Comment.objects.get(version=version, data__event="edited").body


def test_an_old_version_is_proposed_again_as_a_new_draft_copied_from_it(cast):
    old = make_active(cast.marketer, cast.rep, threshold=40, title="Original")
    make_active(cast.marketer, cast.rep, threshold=80)
    old.refresh_from_db()
    assert old.state == DefinitionVersion.State.RETIRED

    copy = services.version_copy_as_draft(version=old, actor=cast.manager, now=timezone.now())
    assert copy.state == DefinitionVersion.State.DRAFT
    assert copy.based_on == old
    assert (copy.rules, copy.threshold, copy.title) == (old.rules, 40, "Original")
    assert copy.number == 3
    assert copy.author == cast.manager
    assert "from v1" in Comment.objects.get(version=copy, data__event="created").body


def test_the_thread_keeps_every_state_change_in_order(cast):
    start = timezone.now()
    version = make_draft(cast.marketer, now=start)
    services.definition_comment(version=version, actor=cast.rep, body="Why 50?", now=start + datetime.timedelta(1))
    services.definition_propose(version=version, actor=cast.marketer, now=start + datetime.timedelta(2))
    services.definition_approve(version=version, actor=cast.marketer, now=start + datetime.timedelta(3))
    services.definition_approve(version=version, actor=cast.manager, now=start + datetime.timedelta(4))
    kinds = [
        (c.kind, c.data.get("event")) for c in Comment.objects.filter(version=version).order_by("created_at", "id")
    ]
    assert kinds == [
        ("event", "created"),
        ("comment", None),
        ("event", "proposed"),
        ("event", "approved"),
        ("event", "approved"),
        ("event", "activated"),
    ]


def test_an_empty_comment_is_refused(cast):
    version = make_draft(cast.marketer)
    with pytest.raises(ApplicationError) as exc:
        services.definition_comment(version=version, actor=cast.rep, body="   ", now=timezone.now())
    assert "body" in exc.value.fields


def test_sample_rules_are_valid_for_the_schema(cast):
    assert len(make_draft(cast.marketer, rules=sample_rules()).rules) == 4
