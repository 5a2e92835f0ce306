"""Which team a promoted lead goes to: rule conditions, rule order, the fallback team."""

import datetime

import pytest

from leadhandoff.api import ApplicationError
from leads.models import AssignmentRule, HistoryAction, Lead, LeadHistory, Status
from leads.routing.services import conditions_clean, conditions_match, conditions_summary, leads_route
from tests.factories import AssignmentRuleFactory, LeadFactory, TeamFactory, make_rep

NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC)  # a Monday


def lead_facts(**overrides) -> dict:
    facts = {
        "country": "US",
        "region": "North America",
        "industry": "Software",
        "company_size": 200,
        "source": "webinar",
        "score": 70,
    }
    return facts | overrides


# --- Conditions, one kind at a time (pure) --------------------------------------


def test_a_rule_without_conditions_matches_every_lead():
    assert conditions_match({}, lead_facts()) == "matches every lead"


@pytest.mark.parametrize(
    ("conditions", "facts", "matches"),
    [
        ({"country": ["US", "CA"]}, {"country": "CA"}, True),
        ({"country": ["US", "CA"]}, {"country": "DE"}, False),
        ({"country": ["us"]}, {"country": " US"}, True),  # case and blanks do not matter
        ({"region": ["EMEA"]}, {"region": "emea"}, True),
        ({"region": ["EMEA"]}, {"region": ""}, False),
        ({"industry": ["Software", "Fintech"]}, {"industry": "Fintech"}, True),
        ({"industry": ["Software"]}, {"industry": "Retail"}, False),
        ({"source": ["webinar"]}, {"source": "paid_search"}, False),
        ({"source": ["webinar", "paid_search"]}, {"source": "paid_search"}, True),
        ({"company_size_min": 500}, {"company_size": 500}, True),  # bounds are inclusive
        ({"company_size_min": 500}, {"company_size": 499}, False),
        ({"company_size_max": 50}, {"company_size": 50}, True),
        ({"company_size_max": 50}, {"company_size": 51}, False),
        ({"company_size_min": 1}, {"company_size": None}, False),  # unknown size never matches a bound
        ({"score_min": 60, "score_max": 79}, {"score": 60}, True),
        ({"score_min": 60, "score_max": 79}, {"score": 79}, True),
        ({"score_min": 60, "score_max": 79}, {"score": 80}, False),
        ({"score_min": 60}, {"score": None}, False),
    ],
)
def test_each_condition_kind_decides_a_match(conditions, facts, matches):
    assert (conditions_match(conditions, lead_facts(**facts)) is not None) is matches


def test_geography_matches_by_country_or_region():
    conditions = {"country": ["UK"], "region": ["Nordics"]}
    assert conditions_match(conditions, lead_facts(country="UK", region="Europe")) == "country UK"
    assert conditions_match(conditions, lead_facts(country="SE", region="Nordics")) == "region Nordics"
    assert conditions_match(conditions, lead_facts(country="FR", region="Europe")) is None


def test_every_condition_kind_set_must_hold():
    conditions = {"country": ["US"], "industry": ["Software"], "score_min": 80}
    assert conditions_match(conditions, lead_facts(score=79)) is None
    assert conditions_match(conditions, lead_facts(score=80)) == "country US, industry Software, score 80 in 80–"


def test_conditions_are_cleaned_trimmed_and_deduplicated():
    clean = conditions_clean(
        {"country": " US, ca ,,US ", "industry": ["Software", "software"], "score_min": "60", "score_max": None}
    )
    assert clean == {"country": ["US", "ca"], "industry": ["Software"], "score_min": 60}


@pytest.mark.parametrize(
    ("conditions", "field", "message"),
    [
        ({"company_size_min": 500, "company_size_max": 50}, "company_size_max", "is below company size from"),
        ({"score_min": 90, "score_max": 10}, "score_max", "Score up to (10) is below score from (90)"),
        ({"company_size_min": -1}, "company_size_min", "cannot be negative"),
        ({"score_min": "lots"}, "score_min", "whole number"),
        ({"colour": ["red"]}, "colour", "Unknown condition"),
        ({"country": ["x" * 101]}, "country", "longer than 100 characters"),
    ],
)
def test_bad_conditions_are_refused_with_a_message_on_the_field(conditions, field, message):
    with pytest.raises(ApplicationError) as raised:
        conditions_clean(conditions)
    assert message in " ".join(raised.value.fields[field])


def test_conditions_read_as_words_in_the_rule_list():
    summary = conditions_summary({"country": ["US"], "region": ["EMEA"], "source": ["webinar"], "score_min": 60})
    assert summary == "in US, EMEA; source webinar; score ≥ 60"
    assert conditions_summary({}) == "every lead"


# --- Routing to teams -----------------------------------------------------------


@pytest.fixture
def teams(db):
    east, west, overflow = TeamFactory(name="North"), TeamFactory(name="South"), TeamFactory(name="Overflow")
    overflow.is_fallback = True
    overflow.save()
    for team in (east, west, overflow):
        make_rep(team=team, username=f"{team.name.lower()}-rep")
    return east, west, overflow


def queued(**fields) -> Lead:
    return LeadFactory(status=Status.QUEUED, **fields)


def test_the_first_matching_rule_wins(teams):
    east, west, _ = teams
    AssignmentRuleFactory(
        name="Big US", team=west, position=0, conditions={"country": ["US"], "company_size_min": 1000}
    )
    AssignmentRuleFactory(name="US", team=east, position=1, conditions={"country": ["US"]})
    AssignmentRuleFactory(name="Everything", team=west, position=2)
    big, small = queued(country="US", company_size=5000), queued(country="US", company_size=10)

    leads_route(lead_ids=[big.id, small.id], now=NOW)

    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.team, big.owner.username) == (west, "south-rep")
    assert (small.team, small.owner.username) == (east, "north-rep")


def test_rule_order_is_position_not_creation(teams):
    east, west, _ = teams
    AssignmentRuleFactory(name="Later", team=east, position=5)
    AssignmentRuleFactory(name="Sooner", team=west, position=1)
    lead = queued()
    leads_route(lead_ids=[lead.id], now=NOW)
    lead.refresh_from_db()
    assert lead.team == west


def test_a_disabled_rule_is_passed_over(teams):
    east, west, _ = teams
    AssignmentRuleFactory(name="Off", team=west, position=0, enabled=False)
    AssignmentRuleFactory(name="On", team=east, position=1)
    lead = queued()
    leads_route(lead_ids=[lead.id], now=NOW)
    lead.refresh_from_db()
    assert lead.team == east


def test_the_fallback_team_catches_what_no_rule_matches(teams):
    east, _, overflow = teams
    AssignmentRuleFactory(name="Germany", team=east, conditions={"country": ["DE"]})
    lead = queued(country="FR")
    assert leads_route(lead_ids=[lead.id], now=NOW) == 1
    lead.refresh_from_db()
    assert (lead.team, lead.owner.username, lead.status) == (overflow, "overflow-rep", Status.ASSIGNED)
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.ASSIGNED)
    assert row.note.startswith("No rule matched → fallback team Overflow")
    assert row.data["rule"] is None


def test_without_a_fallback_team_an_unmatched_lead_stays_unrouted(db):
    east = TeamFactory(name="East")
    make_rep(team=east)
    AssignmentRuleFactory(team=east, conditions={"country": ["DE"]})
    lead = queued(country="FR")
    assert leads_route(lead_ids=[lead.id], now=NOW) == 0
    lead.refresh_from_db()
    assert (lead.status, lead.team, lead.owner) == (Status.QUEUED, None, None)


def test_a_lead_already_in_a_team_queue_stays_in_that_team(teams):
    east, west, _ = teams
    AssignmentRuleFactory(name="All to West", team=west, position=0)
    lead = queued(team=east)
    leads_route(lead_ids=[lead.id], now=NOW)
    lead.refresh_from_db()
    assert (lead.team, lead.owner.username) == (east, "north-rep")


def test_only_queued_unowned_leads_are_routed(teams, cast):
    nurture = LeadFactory(status=Status.NURTURE)
    owned = LeadFactory(status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    assert leads_route(lead_ids=[nurture.id, owned.id], now=NOW) == 0
    nurture.refresh_from_db()
    owned.refresh_from_db()
    assert nurture.owner is None and nurture.status == Status.NURTURE
    assert owned.owner == cast.rep
    assert not LeadHistory.objects.exists()


def test_rule_strategy_choices_are_the_three_documented():
    assert set(AssignmentRule.Strategy.values) == {"round_robin", "weighted", "least_loaded"}
