"""Issue 16, point 1: nothing about an individual nurture-pool lead reaches sales.

The oracle: a rep drafts a definition whose gates pick out one person and runs its
preview; "qualify: 1" would say that person is in the hidden pool. Rules may not
test identifying fields for a value, and every pool figure sales see is rounded
down to tens with nothing below 10 (scoring.selectors.figure_for_sales).
"""

import datetime
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, Status
from scoring import selectors, services
from scoring.models import DefinitionVersion, PoolRescore, Preview
from scoring.preview import _histogram_fixed, preview_build
from scoring.rules import OPERATORS, rules_parse
from tests.factories import LeadFactory
from tests.scoring.definition_helpers import make_draft, make_proposed
from tests.scoring.test_definition_views import editor_post, rule_rows

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
TARGET = "dana.director@acme.com"
ACME = {"id": "acme", "type": "gate", "field": "email_domain", "op": "equals", "value": "acme.com"}
DIRECTOR = {"id": "director", "type": "gate", "field": "title", "op": "contains", "value": "Director"}
ACME_POINTS = {"id": "acme-pts", "type": "fit", "field": "email_domain", "op": "equals", "value": "acme.com"} | {
    "points": 500
}
DIRECTOR_POINTS = {"id": "director-pts", "type": "fit", "field": "title", "op": "contains", "value": "Director"} | {
    "points": 500
}
NOT_DIRECTOR = {"id": "not-director", "type": "gate", "field": "title", "op": "not_contains", "value": "Director"}


# --- rules cannot single out a person ----------------------------------------------


@pytest.mark.parametrize("op", sorted(set(OPERATORS) - {"is_empty", "is_not_empty", "gt", "lt", "between"}))
def test_a_rule_cannot_test_an_email_for_a_value(op):
    value = [TARGET] if op in ("one_of", "not_one_of") else TARGET
    with pytest.raises(ValidationError) as caught:
        rules_parse([{"type": "gate", "field": "email", "op": op, "value": value}])
    [message] = caught.value.message_dict["rules"]
    assert message == (
        "Rule 1: rules cannot test email for a value, only whether it is empty: "
        "it identifies one person; test email domain instead."
    )


def test_presence_of_an_email_and_its_domain_stay_allowed():
    rules = rules_parse(
        [
            {"type": "gate", "field": "email", "op": "is_not_empty"},
            {"type": "fit", "field": "email", "op": "is_empty", "points": -5},
            {"type": "gate", "field": "email_domain", "op": "not_one_of", "value": ["gmail.com", "yahoo.com"]},
            ACME,
        ]
    )
    assert [(r.field, r.op) for r in rules] == [
        ("email", "is_not_empty"),
        ("email", "is_empty"),
        ("email_domain", "not_one_of"),
        ("email_domain", "equals"),
    ]


def test_a_reps_email_gate_is_refused_by_the_api_with_the_rule_named(api, cast):
    rules = [ACME, {"type": "gate", "field": "email", "op": "equals", "value": TARGET}]
    client = api.as_user(cast.rep)
    response = client.post(reverse("api-definition-versions"), {"threshold": 0, "rules": rules}, "json")
    assert response.status_code == 400
    assert response.json()["fields"]["rules"] == [
        "Rule 2: rules cannot test email for a value, only whether it is empty: "
        "it identifies one person; test email domain instead."
    ]
    assert not DefinitionVersion.objects.exists()

    draft = make_draft(cast.rep, rules=[ACME])
    before = draft.rules
    url = reverse("api-definition-version", args=[draft.pk])
    response = client.patch(url, {"revision": draft.revision, "rules": rules}, format="json")
    assert response.status_code == 400
    assert "identifies one person" in response.json()["fields"]["rules"][0]
    draft.refresh_from_db()
    assert (draft.rules, draft.revision) == (before, 1)


def test_a_reps_email_gate_is_refused_by_the_editor_next_to_its_rule(client, cast):
    client.force_login(cast.rep)
    rows = [{"type": "gate", "label": "Is it Dana?", "field": "email", "op": "equals", "value": TARGET}]
    response = client.post(reverse("scoring:version_create"), editor_post(rows, threshold="0"))
    assert response.status_code == 400
    assert not DefinitionVersion.objects.exists()
    [row] = rule_rows(response.content.decode())
    assert "Rules cannot test email for a value, only whether it is empty" in row


# --- rounded figures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "shown"),
    [(None, None), (0, None), (1, None), (9, None), (10, 10), (19, 10), (27, 20), (1234, 1230)],
)
def test_sales_figures_are_rounded_down_to_tens_with_none_below_ten(exact, shown):
    assert selectors.figure_for_sales(exact) == shown


def test_the_minimum_group_is_a_setting(settings):
    settings.POOL_FIGURE_MIN_GROUP = 20
    assert [selectors.figure_for_sales(n) for n in (15, 19, 20, 25)] == [None, None, 20, 20]


def _world() -> None:
    """A pool of 30 other companies' leads and 24 at acme.com, plus Dana, acme's only director."""
    for i in range(30):
        LeadFactory(email=f"p{i}@other{i}.com", title="Engineer")
    for i in range(24):
        LeadFactory(email=f"a{i}@acme.com", title="Engineer")
    LeadFactory(email=TARGET, title="Sales Director")


def _oracle(api, cast, user) -> list[dict]:
    """The attack: drafts that differ by one gate, previewed one after the other."""
    drafts = [
        make_draft(cast.rep, rules=[ACME], threshold=0),
        make_draft(cast.rep, rules=[ACME, NOT_DIRECTOR], threshold=0),
        make_draft(cast.rep, rules=[ACME, DIRECTOR], threshold=0),
        # Points instead of gates: Dana alone would score 1000, above the threshold, and stretch the histogram.
        make_draft(cast.rep, rules=[ACME_POINTS, DIRECTOR_POINTS], threshold=900),
    ]
    seen = []
    for draft in drafts:
        requested = services.preview_request(version=draft, actor=cast.rep, now=NOW)
        preview_build(preview_id=requested.pk, now=NOW)
        body = api.as_user(user).get(reverse("api-definition-preview", args=[requested.pk])).json()
        assert body["state"] == "done"
        seen.append({k: v for k, v in body["data"].items() if k not in ("version", "revision")})
    DefinitionVersion.objects.all().delete()
    return seen


def _oracle_both_worlds(api, cast, user) -> tuple[list[dict], list[dict]]:
    """What `user` sees with Dana in the hidden pool, and once she was handed to sales."""
    _world()
    with_dana = _oracle(api, cast, user)
    Lead.objects.filter(email=TARGET).update(status=Status.ASSIGNED)
    return with_dana, _oracle(api, cast, user)


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_previews_of_drafts_that_differ_by_one_gate_tell_sales_nothing(api, cast, role):
    with_dana, without_dana = _oracle_both_worlds(api, cast, getattr(cast, role))
    assert with_dana == without_dana
    acme, acme_not_director, acme_director, points = with_dana
    assert acme["pool"]["qualify_proposed"] == acme_not_director["pool"]["qualify_proposed"] == 20
    assert acme_director["pool"]["qualify_proposed"] is None  # "fewer than 10", whether 1 or 0
    assert points["pool"]["qualify_proposed"] is None
    # Bins set by the threshold alone (0 to 1800 in ten, open at both ends); the rest of
    # the pool at 0, acme's 24 at 500, Dana (if there) at 1000: "fewer than 10" like none.
    labels = points["distribution"]["labels"]
    assert (labels[:2], labels[-1], len(labels)) == (["< 0", "0–179"], "≥ 1620", 11)
    assert points["distribution"]["proposed"] == [None, 30, None, 20, *[None] * 7]


def test_marketing_still_sees_the_exact_figures_of_the_same_drafts(api, cast):
    with_dana, without_dana = _oracle_both_worlds(api, cast, cast.marketer)
    assert [p["pool"]["qualify_proposed"] for p in with_dana] == [25, 24, 1, 1]
    assert [p["pool"]["qualify_proposed"] for p in without_dana] == [24, 24, 0, 0]
    # Marketing's histogram follows the scores: Dana's 1000 stretches it.
    assert with_dana[3]["distribution"]["labels"] != without_dana[3]["distribution"]["labels"]
    assert with_dana[0]["pool"]["total"] == 55
    assert with_dana[0]["figures_rounded"] is None


def _stored_preview(cast, data: dict) -> Preview:
    return Preview.objects.create(
        version=make_proposed(cast.marketer),
        revision=1,
        state=Preview.State.DONE,
        progress=100,
        created_at=timezone.now(),
        finished_at=timezone.now(),
        data=data,
    )


STORED = {
    "version": 1,
    "threshold": 20,
    "pool": {"total": 31, "qualify_proposed": 15, "qualify_active": 9, "newly_qualify_count": 12, "drop_out_count": 0},
    "newly_qualify": [],
    "drop_out": [],
    # Something a later preview might add: a per-rule split of the pool.
    "per_rule": {"acme": 14, "director": 1},
    "distribution": {"labels": ["0", "10", "20", "30", "40"], "proposed": [1, 15, 12, 0, 3], "active": None},
    "distribution_sales": {"labels": ["< 0", "0–9", "≥ 10"], "proposed": [1, 15, 12], "active": [0, 28, 3]},
    "backtest": {
        "closed": 14,
        "rows": [
            {"key": "proposed-above", "label": "v1 qualifies", "count": 11, "won": 3}
            | {"conversion_rate": 0.2727, "median_cycle_days": 12.0, "median_touches_won": 4},
            {"key": "proposed-below", "label": "v1 does not qualify", "count": 3, "won": 1}
            | {"conversion_rate": 0.3333, "median_cycle_days": 8.0, "median_touches_won": 2},
        ],
    },
}


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_get_an_allow_list_of_rounded_figures_and_no_per_rule_split(api, cast, role):
    preview = _stored_preview(cast, STORED)
    data = api.as_user(getattr(cast, role)).get(reverse("api-definition-preview", args=[preview.pk])).json()["data"]
    assert "per_rule" not in data and "newly_qualify" not in data and "drop_out" not in data
    assert data["pool"] == {
        "total": 30,
        "qualify_proposed": 10,
        "qualify_active": None,
        "newly_qualify_count": 10,
        "drop_out_count": None,
    }
    # The histogram on bins fixed by the threshold, each bar rounded.
    assert data["distribution"] == {
        "labels": ["< 0", "0–9", "≥ 10"],
        "proposed": [None, 10, 10],
        "active": [None, 20, None],
    }
    above, below = data["backtest"]["rows"]
    assert data["backtest"]["closed"] == 10
    figures = ("count", "won", "conversion_rate", "median_cycle_days", "median_touches_won")
    assert [above[k] for k in figures] == [10, None, 0.2727, 12.0, None]  # no median of fewer than 10 won
    assert [below[k] for k in figures] == [None, None, None, None, None]


def test_marketing_gets_the_stored_figures_untouched(api, cast):
    preview = _stored_preview(cast, STORED)
    data = api.as_user(cast.marketer).get(reverse("api-definition-preview", args=[preview.pk])).json()["data"]
    assert data == STORED | {"figures_rounded": None}


def test_the_preview_panel_shows_sales_rounded_figures(client, cast):
    preview = _stored_preview(cast, STORED)
    client.force_login(cast.rep)
    html = client.get(reverse("scoring:preview_status", args=[preview.pk])).content.decode()
    assert 'data-testid="pool-total">30+<' in html
    assert 'data-testid="drop-out-count">fewer than 10<' in html
    assert "(10+ closed leads)" in html
    client.force_login(cast.marketer)
    html = client.get(reverse("scoring:preview_status", args=[preview.pk])).content.decode()
    assert 'data-testid="pool-total">31<' in html
    assert 'data-testid="newly-qualify-count">+12<' in html


def test_the_pool_rescore_panel_rounds_for_sales_only(client, cast):
    PoolRescore.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), state=PoolRescore.State.DONE, changed=1234, promoted=3
    )
    client.force_login(cast.rep)
    html = client.get(reverse("scoring:rescore_status")).content.decode()
    assert "1,230+ scores changed, fewer than 10 leads promoted" in html
    client.force_login(cast.marketer)
    html = client.get(reverse("scoring:rescore_status")).content.decode()
    assert "1,234 scores changed, 3 leads promoted" in html


def test_a_draft_stored_before_the_check_cannot_be_previewed(api, cast, client):
    draft = make_draft(cast.rep, rules=[ACME])
    # As written before identifying fields were refused: straight into the row.
    DefinitionVersion.objects.filter(pk=draft.pk).update(
        rules=[ACME, {"id": "who", "type": "gate", "label": "", "field": "email", "op": "equals", "value": TARGET}]
    )
    response = api.as_user(cast.rep).post(reverse("api-definition-version-preview", args=[draft.pk]))
    assert response.status_code == 400
    assert "Rule 2: rules cannot test email for a value" in response.json()["fields"]["rules"][0]
    assert not Preview.objects.exists()

    client.force_login(cast.rep)
    response = client.post(reverse("scoring:version_preview", args=[draft.pk]), follow=True)
    assert f"Edit v{draft.number} before previewing it. Rule 2: rules cannot test email" in response.content.decode()
    assert not Preview.objects.exists()


def test_the_sales_histogram_has_bins_set_by_the_threshold_alone():
    counts = Counter({-5: 1, 0: 2, 8: 3, 9: 4, 500: 5})
    dist = _histogram_fixed(counts, None, 0)  # threshold 0: bins of one point, 0 to 9
    assert dist["labels"] == ["< 0", *[str(n) for n in range(9)], "≥ 9"]
    assert dist["proposed"] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 9] and dist["active"] is None
    dist = _histogram_fixed(counts, Counter({45: 2}), 25)
    assert dist["labels"][1:3] == ["0–4", "5–9"] and dist["labels"][-1] == "≥ 45"
    assert dist["active"][-1] == 2 and dist["proposed"][-1] == 5
