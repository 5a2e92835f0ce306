"""Mappings: header guesses, the value-map text of the form, checks, and the email rule."""

import pytest
from django.core.validators import validate_email
from hypothesis import given
from hypothesis import strategies as st

from leads.imports.mapping import (
    guess_columns,
    mapping_check,
    suggest_values,
    values_from_text,
    values_to_text,
)
from leads.imports.parse import _EMAIL_FAST, CellError, _email


def test_headers_are_guessed_whatever_their_spelling_and_each_field_once():
    header = ["E-Mail Address", "First Name", "Company", "Lead Source", "Deal Stage", "Account", "Owner", "Notes"]
    assert guess_columns(header) == {
        "E-Mail Address": "email",
        "First Name": "first_name",
        "Company": "company",
        "Lead Source": "source",
        "Deal Stage": "stage",
        "Owner": "owner",
    }  # "Account" would also be the company, but Company came first


def test_stage_and_placeholder_value_maps_are_suggested_from_sample_values():
    columns = {"deal_stage": "stage", "City": "city"}
    samples = {"deal_stage": ["Won", "Lost", "Engaging", "Closed Won", "Prospecting"], "City": ["Select", "Pune"]}
    assert suggest_values(columns, samples) == {
        "stage": {"Engaging": "open", "Closed Won": "won", "Prospecting": "open"},
        "*": {"Select": ""},
    }


def test_the_value_map_text_round_trips_and_names_bad_lines():
    values = {"stage": {"Engaging": "open", "Won": "won"}, "*": {"Select": ""}}
    text = values_to_text(values)
    assert values_from_text(text) == (values, [])
    parsed, errors = values_from_text("stage: Won -> won\nnonsense\ncolour: red -> blue\n# a comment\n")
    assert parsed == {"stage": {"Won": "won"}}
    assert errors == ["Line 2: write it as “field: raw value -> stored value”.", "Line 3: unknown lead field “colour”."]


def test_a_mapping_is_checked_against_the_file_header():
    errors = mapping_check(
        {"columns": {"Email": "email", "Gone": "company", "Name": "full_name", "First": "first_name"}},
        header=["Email", "Name", "First"],
    )
    assert errors == {
        "columns": [
            "The file has no column “Gone”.",
            "Map either a full name or first and last name, not both.",
        ]
    }
    assert mapping_check({"columns": {"Email": "emial"}}) == {
        "columns": [
            "“Email”: unknown lead field “emial”.",
            "No key column: map a column to Email or External id so rows can be matched to leads.",
        ]
    }
    assert "key must be" in mapping_check({"columns": {"e": "email"}, "options": {"key": "phone"}})["options"][0]


@given(st.from_regex(_EMAIL_FAST, fullmatch=True))
def test_every_email_the_fast_check_accepts_is_one_django_accepts(email):
    if len(email) <= 254:
        validate_email(email)


@pytest.mark.parametrize("email", ["user@exämple.com", "a.b+tag@sub.example.co.uk", "x@[127.0.0.1]"])
def test_emails_outside_the_fast_check_go_through_djangos_validator(email):
    assert _email(email) == email


@pytest.mark.parametrize(
    "email", ["plain", "zoë@example.com", "a@b", "a b@x.com", "a@x..com", "a@-x.com", "x" * 250 + "@x.com"]
)
def test_invalid_emails_are_refused(email):
    with pytest.raises(CellError):
        _email(email)


def test_an_origin_column_is_the_origin_only_when_its_values_say_marketing_or_rep_sourced():
    header = ["Email", "Lead Origin"]
    assert guess_columns(header, {"Lead Origin": ["Marketing", "rep_sourced", "Rep-sourced"]}) == {
        "Email": "email",
        "Lead Origin": "origin",
    }
    # A traffic channel: the source, or the campaign when a column is already the source.
    assert guess_columns(header, {"Lead Origin": ["API", "Landing Page Submission"]})["Lead Origin"] == "source"
    assert guess_columns(["Email", "origin", "utm_source"], {"origin": ["social"]}) == {
        "Email": "email",
        "utm_source": "source",
        "origin": "campaign",
    }


def test_a_first_contact_date_is_a_first_contact_only_beside_an_owner():
    assert guess_columns(["email", "first_contact_date"])["first_contact_date"] == "created_at"
    assert guess_columns(["email", "created", "first_contact_date"])["first_contact_date"] == (
        "attributes.first_contact_date"
    )
    assert guess_columns(["email", "owner", "first_contact_date"])["first_contact_date"] == "first_contact_at"


@pytest.mark.parametrize("header", ["Converted", "won", "is_won", "IsWon", "status", "Closed Won"])
def test_outcome_columns_are_the_stage_with_one_and_zero_suggested_as_won_and_lost(header):
    columns = guess_columns(["Email", header])
    assert columns[header] == "stage"
    samples = {header: ["1", "0", "true", "No", "Not converted"]}
    assert suggest_values(columns, samples)["stage"] == {
        "1": "won",
        "0": "lost",
        "true": "won",
        "No": "lost",
        "Not converted": "lost",
    }


def test_a_key_column_is_the_first_id_column_whose_values_are_all_different():
    samples = {"landing_page_id": ["p1", "p1", "p2"], "mql_id": ["a", "b", "c"], "seller_id": ["x", "y", "z"]}
    assert guess_columns(["landing_page_id", "mql_id", "seller_id"], samples) == {"mql_id": "external_id"}
    # An email or a recognised id column is the key already: no *_id guess then.
    assert guess_columns(["email", "mql_id"], samples) == {"email": "email"}
