"""The definition pages: reading, editing in the browser's form, sign-off buttons, discussion."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from scoring import services
from scoring.models import Approval, Comment, DefinitionVersion, Preview
from tests.factories import LeadFactory
from tests.scoring.definition_helpers import make_active, make_draft, make_proposed

pytestmark = pytest.mark.django_db


def row_data(index: int, **fields) -> dict:
    base = {
        "id": "",
        "type": "fit",
        "label": "",
        "field": "",
        "op": "",
        "value": "",
        "event_kind": "",
        "min_count": "1",
        "within_days": "",
        "points": "",
        "cap": "",
        "half_life_days": "",
    }
    base.update(fields)
    return {f"rules-{index}-{k}": v for k, v in base.items()}


def editor_post(rows: list[dict], *, threshold="50", title="", revision="", initial=0) -> dict:
    data = {
        "title": title,
        "threshold": threshold,
        "revision": revision,
        "rules-TOTAL_FORMS": str(len(rows)),
        "rules-INITIAL_FORMS": str(initial),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update(row_data(i, **row))
    return data


def rule_rows(html: str) -> list[str]:
    """The HTML of each rule row of the editor, in order."""
    editor = html.split('<template id="rule-empty-form">')[0]
    return re.findall(r'data-testid="rule-row">(.*?)Remove this rule', editor, re.DOTALL)


@pytest.mark.parametrize("role", ["marketer", "rep", "manager", "admin"])
def test_every_role_sees_the_active_definition_and_the_versions(client, cast, role):
    make_active(cast.marketer, cast.rep, title="Launch rules")
    make_draft(cast.manager, title="Try a lower bar", threshold=30)
    client.force_login(getattr(cast, role))
    response = client.get(reverse("scoring:definition"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="active-version"' in html
    assert "Company over 100 people" in html  # a fit rule of the active version
    assert "Business email" in html  # its gate
    assert "Launch rules" in html and "Try a lower bar" in html


def test_the_definition_page_says_so_when_nothing_is_active(client, cast):
    client.force_login(cast.rep)
    html = client.get(reverse("scoring:definition")).content.decode()
    assert 'data-testid="no-active-version"' in html


def test_the_definition_page_makes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    make_active(cast.marketer, cast.rep)
    for _ in range(3):
        make_proposed(cast.marketer)
    client.force_login(cast.manager)
    client.get(reverse("scoring:definition"))  # warm the session
    # 10: the rescore panel asks whether any lead has a score when no rescore has completed,
    # and the active version's rejections per rule are one more statement (scoring.rejections).
    with django_assert_max_num_queries(10):
        first = client.get(reverse("scoring:definition"))
    for _ in range(10):
        version = make_proposed(cast.rep)
        services.definition_approve(version=version, actor=cast.rep, now=timezone.now())
    with django_assert_max_num_queries(10):
        second = client.get(reverse("scoring:definition"))
    assert first.status_code == second.status_code == 200


def test_a_version_page_groups_rules_and_shows_approvals_with_who_and_side(client, cast):
    version = make_proposed(cast.marketer, title="Q3")
    services.definition_approve(version=version, actor=cast.manager, now=timezone.now())
    client.force_login(cast.marketer)
    html = client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()
    gates = html.split('data-testid="rules-gates"')[1].split("</ul>")[0]
    behaviour = html.split('data-testid="rules-behaviour"')[1].split("</ul>")[0]
    assert "Business email" in gates
    assert "Asked for a demo" in behaviour and "+40 each" in behaviour
    approvals = html.split('data-testid="approvals"')[1].split("</table>")[0]
    assert str(cast.manager) in approvals and "Sales" in approvals
    assert 'data-testid="approve"' in html  # the marketer may still approve


def test_a_marketer_starts_a_draft_in_the_editor(client, cast):
    client.force_login(cast.marketer)
    assert client.get(reverse("scoring:version_create")).status_code == 200
    rows = [
        {"type": "gate", "label": "Served country", "field": "country", "op": "one_of", "value": "US, CA"},
        {
            "type": "fit",
            "label": "Mid-size",
            "field": "company_size",
            "op": "between",
            "value": "50, 500",
            "points": "25",
        },
        {"type": "behaviour", "label": "Pricing", "event_kind": "pricing_page_view", "min_count": "2"}
        | {"within_days": "14", "points": "10", "cap": "30", "half_life_days": "7"},
    ]
    response = client.post(reverse("scoring:version_create"), editor_post(rows, threshold="45", title="First"))
    version = DefinitionVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:version_detail", args=[version.pk])
    assert (version.state, version.threshold, version.title, version.author) == ("draft", 45, "First", cast.marketer)
    gate, fit, behaviour = version.rules
    assert gate["value"] == ["US", "CA"]
    assert fit["value"] == [50.0, 500.0]
    assert (behaviour["min_count"], behaviour["cap"], behaviour["half_life_days"]) == (2, 30, 7.0)


def test_bad_rows_are_refused_with_each_message_next_to_its_rule_and_nothing_is_stored(client, cast):
    client.force_login(cast.rep)
    rows = [
        {"type": "fit", "label": "Fine", "field": "industry", "op": "equals", "value": "Software", "points": "5"},
        {"type": "fit", "label": "Backwards", "field": "company_size", "op": "between", "value": "500, 50"}
        | {"points": "5"},
        {"type": "gate", "label": "Text compare", "field": "country", "op": "gt", "value": "3"},
        {"type": "behaviour", "label": "No window", "event_kind": "email_click", "points": "3"},
    ]
    response = client.post(reverse("scoring:version_create"), editor_post(rows, title="Keep me"))
    assert response.status_code == 400
    assert DefinitionVersion.objects.count() == 0
    html = response.content.decode()
    first, second, third, fourth = rule_rows(html)
    assert "rule-errors" not in first
    assert "The low end of &#x27;between&#x27; is above the high end." in second
    assert "works only on number fields" in third
    assert "Give the window in days." in fourth
    assert 'value="Keep me"' in html  # what the user typed is still there


def test_an_empty_required_part_of_a_rule_is_named_on_its_field(client, cast):
    client.force_login(cast.marketer)
    rows = [{"type": "fit", "label": "Half done", "field": "industry", "op": "", "value": "", "points": ""}]
    response = client.post(reverse("scoring:version_create"), editor_post(rows))
    assert response.status_code == 400
    [row] = rule_rows(response.content.decode())
    assert "Choose an operator." in row
    assert "Give the points (negative to subtract)." in row


def test_a_threshold_that_is_not_a_number_is_named_on_the_threshold_field(client, cast):
    client.force_login(cast.marketer)
    response = client.post(reverse("scoring:version_create"), editor_post([], threshold="high"))
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()


def test_removing_a_row_and_leaving_a_new_row_blank_saves_the_rest(client, cast):
    version = make_draft(cast.marketer)
    client.force_login(cast.marketer)
    form = client.get(reverse("scoring:version_edit", args=[version.pk]))
    assert len(rule_rows(form.content.decode())) == 4
    rows = [
        {"id": r["id"], "type": r["type"], "label": r["label"], "field": r.get("field", ""), "op": r.get("op", "")}
        | {"value": ", ".join(r["value"]) if isinstance(r.get("value"), list) else str(r.get("value", ""))}
        | {"points": str(r.get("points", "")), "event_kind": r.get("event_kind", "")}
        | {"min_count": str(r.get("min_count", "1")), "within_days": str(r.get("within_days", ""))}
        | {"cap": str(r.get("cap") or ""), "half_life_days": ""}
        for r in version.rules
    ]
    rows[1]["DELETE"] = "on"
    rows.append({})  # added in the browser, never filled in
    response = client.post(
        reverse("scoring:version_edit", args=[version.pk]), editor_post(rows, revision="1", initial=4)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    version.refresh_from_db()
    assert [r["id"] for r in version.rules] == ["gate-email", "fit-industry", "beh-demo"]
    assert version.revision == 2


def test_editing_a_proposed_version_in_the_browser_withdraws_approvals(client, cast):
    version = make_proposed(cast.marketer)
    services.definition_approve(version=version, actor=cast.rep, now=timezone.now())
    client.force_login(cast.manager)
    rows = [{"type": "fit", "label": "Only", "field": "industry", "op": "equals", "value": "Retail", "points": "50"}]
    response = client.post(
        reverse("scoring:version_edit", args=[version.pk]), editor_post(rows, revision=str(version.revision))
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.PROPOSED
    assert Approval.objects.get().withdrawn_at is not None
    page = client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()
    assert "withdrawn" in page


def test_an_active_version_is_not_editable_and_the_editor_says_so(client, cast):
    version = make_active(cast.marketer, cast.rep)
    client.force_login(cast.marketer)
    response = client.get(reverse("scoring:version_edit", args=[version.pk]), follow=True)
    assert "start a new draft from it" in response.content.decode()


def test_propose_approve_and_activate_through_the_buttons(client, cast):
    version = make_draft(cast.marketer)
    client.force_login(cast.marketer)
    client.post(reverse("scoring:version_propose", args=[version.pk]))
    client.post(reverse("scoring:version_approve", args=[version.pk]), {"revision": "1"})
    client.force_login(cast.manager)
    response = client.post(reverse("scoring:version_approve", args=[version.pk]), {"revision": "1"}, follow=True)
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.ACTIVE
    assert "now the active definition" in response.content.decode()


def test_approving_a_stale_revision_in_the_browser_is_refused_with_the_reason(client, cast):
    version = make_proposed(cast.marketer)
    services.definition_update(
        version=version, rules=version.rules, threshold=99, title="", revision=1, actor=cast.rep, now=timezone.now()
    )
    client.force_login(cast.manager)
    response = client.post(reverse("scoring:version_approve", args=[version.pk]), {"revision": "1"}, follow=True)
    assert "approve again" in response.content.decode()
    assert not Approval.objects.exists()


def test_admins_get_no_approve_button_and_are_refused(client, cast):
    version = make_proposed(cast.marketer)
    client.force_login(cast.admin)
    page = client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()
    assert 'data-testid="approve"' not in page
    assert client.post(reverse("scoring:version_approve", args=[version.pk]), {"revision": "1"}).status_code == 403


def test_new_draft_from_an_old_version(client, cast):
    version = make_active(cast.marketer, cast.rep)
    client.force_login(cast.rep)
    response = client.post(reverse("scoring:version_copy", args=[version.pk]))
    copy = DefinitionVersion.objects.get(based_on=version)
    assert response["Location"] == reverse("scoring:version_detail", args=[copy.pk])
    assert copy.author == cast.rep


def test_comments_appear_in_the_thread_and_an_empty_one_is_refused(client, cast):
    version = make_draft(cast.marketer)
    client.force_login(cast.rep)
    empty = client.post(reverse("scoring:version_comment", args=[version.pk]), {"body": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    client.post(reverse("scoring:version_comment", args=[version.pk]), {"body": "Can we drop the gmail gate?"})
    comment = Comment.objects.get(kind=Comment.Kind.COMMENT)
    assert (comment.author, comment.body) == (cast.rep, "Can we drop the gmail gate?")
    page = client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()
    thread = page.split('data-testid="thread"')[1].split("</ul>")[0]
    assert "Started draft v1" in thread and "Can we drop the gmail gate?" in thread


def test_the_compare_picker_leads_to_the_diff_page(client, cast):
    first = make_active(cast.marketer, cast.rep)
    second = services.version_copy_as_draft(version=first, actor=cast.marketer, now=timezone.now())
    client.force_login(cast.manager)
    response = client.get(reverse("scoring:version_detail", args=[second.pk]), {"compare": first.pk})
    assert response["Location"] == reverse("scoring:version_diff", args=[second.pk, first.pk])


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_never_sees_pool_leads_on_definition_pages(client, cast, role):
    pool_lead = LeadFactory(first_name="Pauline", last_name="Poolside", company="Hidden Pool Co")
    version = make_proposed(cast.marketer)
    Preview.objects.create(
        version=version,
        revision=version.revision,
        state=Preview.State.DONE,
        progress=100,
        created_at=timezone.now(),
        finished_at=timezone.now(),
        data={
            "version": 1,
            "threshold": 50,
            "pool": {"total": 1, "qualify_proposed": 1, "newly_qualify_count": 1, "drop_out_count": 0},
            "newly_qualify": [{"id": pool_lead.pk, "name": str(pool_lead), "company": "Hidden Pool Co", "score": 60}],
            "drop_out": [],
            "backtest": {"closed": 0, "rows": []},
            "distribution": {"labels": ["60"], "proposed": [1], "active": None},
        },
    )
    client.force_login(getattr(cast, role))
    for url in (
        reverse("scoring:definition"),
        reverse("scoring:version_detail", args=[version.pk]),
        reverse("scoring:preview_status", args=[version.previews.get().pk]),
    ):
        html = client.get(url).content.decode()
        assert "Poolside" not in html and "Hidden Pool Co" not in html, url
    detail = client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()
    # The count, not the lead, and one lead only as "fewer than 10" (test_preview_privacy).
    assert 'data-testid="newly-qualify-count">fewer than 10<' in detail
    assert 'data-testid="preview-lists-hidden"' in detail

    client.force_login(cast.marketer)
    assert "Poolside" in client.get(reverse("scoring:version_detail", args=[version.pk])).content.decode()


def test_a_version_page_makes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    version = make_proposed(cast.marketer)
    client.force_login(cast.marketer)
    client.get(reverse("scoring:version_detail", args=[version.pk]))
    with django_assert_max_num_queries(14):
        client.get(reverse("scoring:version_detail", args=[version.pk]))
    for i in range(10):
        services.definition_comment(version=version, actor=cast.rep, body=f"Point {i}", now=timezone.now())
        make_draft(cast.manager)
    services.definition_approve(version=version, actor=cast.rep, now=timezone.now())
    with django_assert_max_num_queries(14):
        response = client.get(reverse("scoring:version_detail", args=[version.pk]))
    assert response.content.decode().count('data-testid="thread-entry"') == 13


def test_the_admin_shows_versions_but_cannot_change_them(client, cast):
    version = make_active(cast.marketer, cast.rep)
    client.force_login(cast.admin)
    assert client.get(reverse("admin:scoring_definitionversion_changelist")).status_code == 200
    assert client.get(reverse("admin:scoring_definitionversion_change", args=[version.pk])).status_code == 200
    assert client.get(reverse("admin:scoring_definitionversion_add")).status_code == 403
    client.post(reverse("admin:scoring_definitionversion_change", args=[version.pk]), {"threshold": "1"})
    version.refresh_from_db()
    assert version.threshold == 50
