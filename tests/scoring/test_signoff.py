"""Sign-off: a Marketing user and a Sales user, two different people, activate a version."""

import datetime
import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from accounts.models import Role
from leadhandoff.api import ApplicationError, ConflictError
from scoring import services
from scoring.models import Approval, Comment, DefinitionVersion
from tests.factories import UserFactory
from tests.scoring.definition_helpers import make_active, make_draft, make_proposed, save_edit

pytestmark = pytest.mark.django_db


def approve(version, user, **kwargs):
    return services.definition_approve(version=version, actor=user, now=timezone.now(), **kwargs)


def state(version) -> str:
    version.refresh_from_db()
    return version.state


def test_marketing_approval_alone_does_not_activate(cast):
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    assert state(version) == DefinitionVersion.State.PROPOSED


def test_two_sales_approvals_without_marketing_do_not_activate(cast):
    version = make_proposed(cast.marketer)
    approve(version, cast.rep)
    approve(version, cast.manager)
    assert state(version) == DefinitionVersion.State.PROPOSED


def test_two_marketing_approvals_without_sales_do_not_activate(cast):
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    approve(version, UserFactory(role=Role.MARKETING))
    assert state(version) == DefinitionVersion.State.PROPOSED


@pytest.mark.parametrize("sales", ["rep", "manager"])
def test_marketing_and_a_sales_user_activate_it(cast, sales):
    version = make_proposed(cast.marketer)
    approve(version, getattr(cast, sales))
    assert state(version) == DefinitionVersion.State.PROPOSED
    approve(version, cast.marketer)
    assert state(version) == DefinitionVersion.State.ACTIVE
    assert version.activated_at is not None
    sides = sorted(Approval.objects.filter(version=version).values_list("side", flat=True))
    assert sides == ["marketing", "sales"]


def test_the_same_person_cannot_approve_twice(cast):
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    with pytest.raises(ApplicationError, match="already approved"):
        approve(version, cast.marketer)
    assert Approval.objects.filter(version=version).count() == 1


def test_a_user_whose_role_changed_still_counts_once(cast):
    """Sides are two different people: one user approving as marketing, then as sales, is not sign-off."""
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    cast.marketer.role = Role.REP
    with pytest.raises(ApplicationError, match="already approved"):
        approve(version, cast.marketer)
    assert state(version) == DefinitionVersion.State.PROPOSED
    assert not services.signoff_status(list(Approval.objects.filter(version=version)))["complete"]


def test_admins_do_not_sign_off(cast):
    version = make_proposed(cast.marketer)
    with pytest.raises(ApplicationError) as exc:
        approve(version, cast.admin)
    assert exc.value.status_code == 403
    assert not Approval.objects.exists()


def test_the_author_may_approve_their_own_version(cast):
    version = make_proposed(cast.rep)
    approve(version, cast.rep)
    approve(version, cast.marketer)
    assert state(version) == DefinitionVersion.State.ACTIVE


@pytest.mark.parametrize("current", ["draft", "active"])
def test_only_a_proposed_version_can_be_approved(cast, current):
    version = make_draft(cast.marketer) if current == "draft" else make_active(cast.marketer, cast.rep)
    before = Approval.objects.count()
    with pytest.raises(ApplicationError, match="only a proposed version"):
        approve(version, cast.manager)
    assert Approval.objects.count() == before


def test_any_edit_after_an_approval_withdraws_it_and_sign_off_starts_again(cast):
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    save_edit(version, cast.rep, threshold=65)
    approve(version, cast.rep)
    assert state(version) == DefinitionVersion.State.PROPOSED  # the marketing approval was withdrawn
    approve(version, cast.marketer)
    assert state(version) == DefinitionVersion.State.ACTIVE
    live = Approval.objects.filter(version=version, withdrawn_at__isnull=True)
    assert {a.revision for a in live} == {2}


def test_approving_a_revision_that_was_edited_since_is_refused(cast):
    version = make_proposed(cast.marketer)
    seen = version.revision
    save_edit(version, cast.marketer, revision=seen, threshold=10)
    with pytest.raises(ConflictError) as exc:
        approve(version, cast.manager, revision=seen)
    assert "approve again" in exc.value.message
    assert any("Threshold" in c["text"] for c in exc.value.changes)
    assert not Approval.objects.filter(user=cast.manager).exists()


def test_activation_retires_the_previous_active_version(cast):
    first = make_active(cast.marketer, cast.rep)
    second = make_proposed(cast.marketer)
    approve(second, cast.manager)
    approve(second, cast.marketer)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (DefinitionVersion.State.RETIRED, DefinitionVersion.State.ACTIVE)
    assert first.retired_at == second.activated_at
    assert DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).count() == 1
    assert Comment.objects.filter(version=first, data__event="retired").exists()
    assert "replaces v1" in Comment.objects.get(version=second, data__event="activated").body


def test_exactly_one_active_version_is_enforced_by_the_database(cast):
    make_active(cast.marketer, cast.rep)
    other = make_draft(cast.marketer)
    with pytest.raises(IntegrityError), transaction.atomic():
        DefinitionVersion.objects.filter(pk=other.pk).update(state=DefinitionVersion.State.ACTIVE)


def test_activation_enqueues_a_pool_rescore_after_commit(cast, django_capture_on_commit_callbacks):
    version = make_proposed(cast.marketer)
    approve(version, cast.marketer)
    with django_capture_on_commit_callbacks() as callbacks:
        approve(version, cast.rep)
    assert [c.__name__ for c in callbacks] == ["_enqueue_rescore"]


def test_a_first_approval_enqueues_nothing(cast, django_capture_on_commit_callbacks):
    version = make_proposed(cast.marketer)
    with django_capture_on_commit_callbacks() as callbacks:
        approve(version, cast.marketer)
    assert callbacks == []


def test_approvals_keep_who_which_side_which_revision_and_when(cast):
    version = make_proposed(cast.marketer)
    now = timezone.now()
    services.definition_approve(version=version, actor=cast.manager, now=now)
    approval = Approval.objects.get(version=version)
    assert (approval.user, approval.side, approval.revision, approval.created_at) == (
        cast.manager,
        Approval.Side.SALES,
        version.revision,
        now,
    )
    later = now + datetime.timedelta(minutes=5)
    services.definition_update(
        version=version, rules=version.rules, threshold=1, title="", revision=1, actor=cast.rep, now=later
    )
    approval.refresh_from_db()
    assert approval.withdrawn_at == later


@pytest.mark.django_db(transaction=True)
def test_two_sign_offs_completing_at_once_leave_exactly_one_active_version(cast):
    """Each activation retires "the" active version; the activation lock makes them take turns."""
    first = make_proposed(cast.marketer)
    second = make_proposed(cast.marketer)
    approve(first, cast.marketer)
    approve(second, cast.marketer)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign_off(version, user):
        try:
            barrier.wait(5)
            approve(version, user)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=sign_off, args=(first, cast.rep)),
        threading.Thread(target=sign_off, args=(second, cast.manager)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    states = sorted(DefinitionVersion.objects.values_list("state", flat=True))
    assert states == ["active", "retired"]
