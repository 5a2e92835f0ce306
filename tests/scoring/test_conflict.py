"""No lost edits: two people editing one version; the second save is refused, nothing is lost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scoring import services
from scoring.models import Approval, DefinitionVersion
from tests.scoring.definition_helpers import make_draft, make_proposed, save_edit
from tests.scoring.test_definition_views import editor_post

pytestmark = pytest.mark.django_db


def test_the_second_save_against_the_same_revision_is_refused_with_the_first_change(cast):
    version = make_draft(cast.marketer, threshold=50)
    alice_view = DefinitionVersion.objects.get(pk=version.pk)
    bob_view = DefinitionVersion.objects.get(pk=version.pk)

    save_edit(alice_view, cast.marketer, revision=1, threshold=60)
    bob_rules = [*bob_view.rules, {"type": "fit", "field": "country", "op": "equals", "value": "US", "points": 5}]
    with pytest.raises(services.DefinitionConflictError) as exc:
        save_edit(bob_view, cast.manager, revision=1, rules=bob_rules)

    stored = DefinitionVersion.objects.get(pk=version.pk)
    assert (stored.revision, stored.threshold, len(stored.rules)) == (2, 60, 4)  # Alice's save, not Bob's
    assert exc.value.status_code == 409
    assert exc.value.changed_by == str(cast.marketer)
    assert [c["text"] for c in exc.value.changes] == ["Threshold: 50 → 60"]
    assert "revision 1" in exc.value.message and "revision 2" in exc.value.message


def test_a_conflict_after_several_saves_shows_all_of_them_since_the_editors_revision(cast):
    version = make_draft(cast.marketer, threshold=50, title="Base")
    save_edit(version, cast.marketer, revision=1, threshold=55)
    version.refresh_from_db()
    save_edit(version, cast.rep, revision=2, title="Renamed")
    with pytest.raises(services.DefinitionConflictError) as exc:
        save_edit(version, cast.manager, revision=1, threshold=99)
    texts = sorted(c["text"] for c in exc.value.changes)
    assert texts == ["Threshold: 50 → 55", "Title: “Base” → “Renamed”"]
    assert exc.value.changed_by == ", ".join(sorted([str(cast.marketer), str(cast.rep)]))


def test_the_refused_save_writes_nothing_and_withdraws_nothing(cast):
    version = make_proposed(cast.marketer)
    save_edit(version, cast.marketer, revision=1, threshold=61)
    services.definition_approve(version=version, actor=cast.marketer, now=timezone.now())
    with pytest.raises(services.DefinitionConflictError):
        save_edit(version, cast.rep, revision=1, threshold=1)
    assert Approval.objects.get().withdrawn_at is None
    assert DefinitionVersion.objects.get().threshold == 61


def test_the_browser_form_comes_back_with_the_users_input_and_the_other_change(client, cast):
    version = make_draft(cast.marketer, threshold=50, title="Shared draft")
    # Alice saves first.
    save_edit(version, cast.marketer, revision=1, threshold=75)

    # Bob, still on revision 1, typed a new rule and a new title.
    client.force_login(cast.manager)
    rows = [
        {"type": "gate", "label": "Bob's gate", "field": "country", "op": "one_of", "value": "US, DE"},
        {"type": "fit", "label": "Bob's fit", "field": "industry", "op": "contains", "value": "soft", "points": "12"},
    ]
    post = editor_post(rows, threshold="50", title="Bob was here", revision="1")
    response = client.post(reverse("scoring:version_edit", args=[version.pk]), post)
    html = response.content.decode()

    assert response.status_code == 409
    assert 'data-testid="conflict"' in html
    conflict = html.split('data-testid="conflict"')[1].split('data-testid="editor"')[0]
    assert str(cast.marketer) in conflict
    assert "Threshold" in conflict and "75" in conflict  # the other person's change
    editor = html.split('data-testid="editor"')[1]
    for typed in ('value="Bob was here"', "Bob&#x27;s gate", "Bob&#x27;s fit", 'value="US, DE"', 'value="12"'):
        assert typed in editor, typed
    assert 'name="revision" value="2"' in editor  # saving again is now a deliberate overwrite

    stored = DefinitionVersion.objects.get(pk=version.pk)
    assert (stored.threshold, stored.title, stored.revision) == (75, "Shared draft", 2)

    # Bob merges (keeps Alice's threshold) and saves again: accepted.
    post.update(threshold="75", revision="2")
    assert client.post(reverse("scoring:version_edit", args=[version.pk]), post).status_code == 302
    stored.refresh_from_db()
    assert (stored.threshold, stored.title, stored.revision) == (75, "Bob was here", 3)
    assert [r["label"] for r in stored.rules] == ["Bob's gate", "Bob's fit"]


def test_the_api_answers_409_with_the_changes_and_the_current_version(api, cast):
    version = make_draft(cast.marketer, threshold=50)
    save_edit(version, cast.rep, revision=1, threshold=70)
    client = api.as_user(cast.marketer)
    url = reverse("api-definition-version", args=[version.pk])
    response = client.patch(url, {"revision": 1, "threshold": 10}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["changed_by"] == str(cast.rep)
    assert body["changes"][0]["what"] == "threshold"
    assert (body["changes"][0]["before"], body["changes"][0]["after"]) == (50, 70)
    assert body["current"]["revision"] == 2 and body["current"]["threshold"] == 70
    assert "revision" in body["fields"]
    assert DefinitionVersion.objects.get().threshold == 70


def test_the_save_is_a_compare_and_set_on_the_revision(cast):
    """One UPDATE ... WHERE id AND revision decides; a refused save changes no row."""
    version = make_draft(cast.marketer)
    save_edit(version, cast.marketer, revision=1, threshold=3)
    with CaptureQueriesContext(connection) as queries, pytest.raises(services.DefinitionConflictError):
        save_edit(version, cast.rep, revision=1, threshold=4)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"revision" = 1' in updates[0]


def test_an_edit_that_does_not_say_which_revision_it_started_from_is_refused(client, cast):
    version = make_draft(cast.marketer, threshold=50)
    client.force_login(cast.marketer)
    response = client.post(reverse("scoring:version_edit", args=[version.pk]), editor_post([], threshold="10"))
    assert response.status_code == 400
    assert "reload the page" in response.content.decode()
    assert DefinitionVersion.objects.get().threshold == 50


def test_a_save_that_changes_nothing_is_not_a_revision_and_posts_nothing(cast):
    """The editor's own path (an empty added rule is dropped by the formset) is in
    tests/browser/test_everyday_pages.py; here the service."""
    from scoring.models import Comment

    version = make_proposed(cast.marketer)
    services.definition_approve(version=version, actor=cast.marketer, now=timezone.now())
    comments = Comment.objects.filter(version=version).count()
    unchanged = save_edit(version, cast.rep)
    assert unchanged.revision == 1
    stored = DefinitionVersion.objects.get(pk=version.pk)
    assert stored.revision == 1
    assert Comment.objects.filter(version=version).count() == comments
    assert Approval.objects.get().withdrawn_at is None
    assert save_edit(stored, cast.rep, threshold=stored.threshold + 1).revision == 2
