"""Derived values (issue 14, point 2): a field set from a condition (present / absent, a
lookup matched or not, an RE2 pattern, a list of values) or a small calculation, parsed and
never eval-ed."""

import builtins
import datetime
from decimal import Decimal

import pytest

from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvRow
from leads.imports import CsvFile, Importer
from leads.imports.derived import RuleError, rule_compile, rules_from_text
from leads.imports.mapping import mapping_check
from leads.imports.parse import Plan
from leads.models import Lead, Status

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)


def evaluate(rule: str, row: dict[str, str], matched: dict[str, bool] | None = None) -> str:
    compiled = rule_compile(rule, columns=list(row), lookups=list(matched or {}))
    return compiled(lambda name: row[name], lambda name: (matched or {})[name])


@pytest.mark.parametrize(
    ("rule", "row", "expected"),
    [
        ("won if [won_date] present else open", {"won_date": "2018-01-02"}, "won"),
        ("won if [won_date] present else open", {"won_date": ""}, "open"),
        ("lost if [won_date] absent", {"won_date": ""}, "lost"),
        ("lost if [won_date] absent", {"won_date": "x"}, ""),  # no else: left blank
        ('big if [Employees] matches "^[0-9]{4,}$" else small', {"Employees": "12000"}, "big"),
        ('big if [Employees] matches "^[0-9]{4,}$" else small', {"Employees": "120"}, "small"),
        ('won if [Status] in (Closed Won, won, "Signed, sealed") else open', {"Status": "closed won"}, "won"),
        ('won if [Status] in (Closed Won, won, "Signed, sealed") else open', {"Status": "Signed, sealed"}, "won"),
        ('won if [Status] in (Closed Won, won, "Signed, sealed") else open', {"Status": "Closed"}, "open"),
        ("won if [s] = Won else lost if [s] = Lost else open", {"s": "LOST"}, "lost"),
        ("won if [s] = Won else lost if [s] = Lost else open", {"s": "Engaging"}, "open"),
        ("hot if [s] != cold else cold", {"s": "warm"}, "hot"),
        ("[Total Visits] + [Page Views] * 2", {"Total Visits": "3", "Page Views": "2.5"}, "8"),
        ("([a] + [b]) * 2", {"a": "1", "b": "2"}, "6"),
        ("[amount] * 1.2", {"amount": "1,000.50"}, "1200.6"),
        ("[a] - [b] / 4", {"a": "1", "b": "2"}, "0.5"),
        ("-[a] + 10", {"a": "3"}, "7"),
        ("[a] + [b]", {"a": "3", "b": ""}, ""),  # a blank cell is unknown, never 0
    ],
)
def test_rules_give_the_value_the_row_calls_for(rule, row, expected):
    assert evaluate(rule, row) == expected


def test_a_lookup_condition_reads_whether_the_row_found_a_lookup_row():
    assert evaluate("won if lookup deal matched else open", {}, {"deal": True}) == "won"
    assert evaluate("won if lookup deal matched else open", {}, {"deal": False}) == "open"
    assert evaluate("nurture if lookup deal unmatched", {}, {"deal": False}) == "nurture"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("won if [gone] present", "names a column “gone” the file (and its lookups) does not have"),
        ("won if lookup nope matched", "names a lookup “nope” the mapping does not have (lookups: deal)"),
        ("won if [a] sometimes", "after [a] write present, absent, matches, in, = or !=; found “sometimes”"),
        ('x if [a] matches "(unclosed"', "is not a regular expression RE2 accepts"),
        ('x if [a] matches "(a)\\1"', "is not a regular expression RE2 accepts"),  # backreferences: not RE2
        ("x if [a] matches ^a", "write the pattern after “matches” in double quotes"),
        ("[a] + ", "ends too early"),
        ("[a] + open", "“open” is neither a number nor a [column]"),
        ("__import__('os').system('true')", "“__import__” is neither a number nor a [column]"),
        ("[a] ** 2", "is neither a number nor a [column]"),
        ("won if [a] present else", "ends too early"),
    ],
)
def test_a_rule_that_cannot_be_read_says_why(rule, message):
    with pytest.raises(RuleError) as caught:
        rule_compile(rule, columns=["a"], lookups=["deal"])
    assert message in str(caught.value)


def test_rules_are_parsed_never_evaluated_as_python(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval or exec was called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert evaluate("[a] * 3 + 1", {"a": "2"}) == "7"
    assert evaluate('y if [a] matches "^2" else n', {"a": "2"}) == "y"


def test_a_pattern_that_backtracks_exponentially_in_pythons_re_runs_in_linear_time_in_re2():
    # (a+)+$ against "aaaa…b" takes exponential time with backtracking engines; RE2 answers at once.
    rule = rule_compile('bad if [a] matches "^(a+)+$" else ok', columns=["a"])
    started = datetime.datetime.now(tz=datetime.UTC)
    assert rule(lambda name: "a" * 5000 + "b", lambda name: False) == "ok"
    assert (datetime.datetime.now(tz=datetime.UTC) - started).total_seconds() < 1


def test_the_browser_box_reads_one_rule_per_line_and_names_bad_lines():
    rules, errors = rules_from_text(
        "stage: won if [won_date] present else open\n# a comment\n\nattributes.x: [a] +\nnonsense\n"
    )
    assert rules == {"stage": "won if [won_date] present else open"}
    assert errors == [
        "Line 4: the rule ends too early.",
        "Line 5: write it as “field: rule”, e.g. “stage: won if [won_date] present”.",
    ]


def test_a_mapping_is_checked_for_its_derived_fields():
    mapping = {
        "columns": {"id": "external_id", "st": "stage"},
        "options": {"derived": {"stage": "won if [st] present", "colour": "red if [st] present", "city": "[a] +"}},
    }
    assert mapping_check(mapping)["derived"] == [
        "“stage” is mapped from the column “st” and derived too: keep one.",
        "“colour”: unknown lead field.",
        "“city”: the rule ends too early.",
    ]
    with pytest.raises(ApplicationError) as caught:
        Plan.compile(
            {"columns": {"id": "external_id"}, "options": {"derived": {"stage": "won if [nope] present"}}}, ["id"]
        )
    assert caught.value.fields == {
        "derived": ["“stage”: the rule names a column “nope” the file (and its lookups) does not have."]
    }


def test_an_import_sets_fields_from_rules_with_placeholders_read_as_empty(cast):
    mapping = {
        "columns": {"id": "external_id", "owner": "owner", "won_date": "closed_at", "visits": "attributes.visits"},
        "values": {"*": {"Select": ""}},
        "options": {
            "derived": {
                "stage": "won if [won_date] present else open",
                "attributes.engagement": "[visits] * 2 + [pages]",
                "industry": 'software if [segment] matches "(?i)saas|software" else other if [segment] present',
                "deal_value": "[price] * 1.2",
            }
        },
    }
    text = (
        "id,owner,won_date,visits,pages,segment,price\n"
        "A,rep1,2024-02-01,3,4,SaaS tools,100\n"
        "B,rep1,,1,Select,Select,\n"
        "C,rep1,,2,x,,\n"
    )
    result = Importer(csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=None, now=NOW).run()
    assert (result.created, result.rejected) == (2, 1)
    assert result.rejections[0]["line"] == 4
    assert result.rejections[0]["reason"] == "column “pages”: “x” is not a number"
    a, b = Lead.objects.get(external_id="A"), Lead.objects.get(external_id="B")
    assert (a.status, a.industry, a.deal_value, a.attributes) == (
        Status.WON,
        "software",
        Decimal("120.00"),
        {"visits": "3", "engagement": "10"},
    )
    assert (b.status, b.industry, b.deal_value, b.attributes) == (Status.ASSIGNED, "", None, {"visits": "1"})


def test_plan_parse_gives_derived_values_from_a_lookup_match(db):
    mapping = {
        "columns": {"mql_id": "external_id", "deal.won_date": "closed_at"},
        "options": {
            "lookups": [
                {
                    "column": "mql_id",
                    "key": "mql_id",
                    "as": "deal",
                    "rows": [{"mql_id": "m1", "won_date": "2018-03-01"}],
                }
            ],
            "derived": {"stage": "won if lookup deal matched"},
        },
    }
    plan = Plan.compile(mapping, ["mql_id", "origin"])
    matched, unmatched = plan.parse(CsvRow(2, ["M1", "social"])), plan.parse(CsvRow(3, ["m2", "social"]))
    assert (matched.stage, matched.values["closed_at"].date()) == ("won", datetime.date(2018, 3, 1))
    assert (unmatched.stage, "closed_at" in unmatched.values) == (None, False)
