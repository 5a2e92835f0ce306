"""The events API's SQLite path (the demo database) keeps the same promises.

The suite runs on PostgreSQL; here the portable path is chosen explicitly and
the behaviour tests of tests/leads/test_events_api.py run against it again.
"""

import pytest

from tests.leads import test_events_api as behaviour
from tests.leads.test_events_api import activity, frozen_clock  # noqa: F401 - fixtures those tests use


@pytest.fixture(autouse=True)
def portable_path(monkeypatch):
    monkeypatch.setattr("leads.intake._without_postgresql", lambda: True)


test_an_event_for_an_unknown_email_creates_the_nurture_lead = (
    behaviour.test_an_event_for_an_unknown_email_creates_the_nurture_lead
)
test_events_find_existing_leads_by_email_case_insensitively_or_external_id = (
    behaviour.test_events_find_existing_leads_by_email_case_insensitively_or_external_id
)
test_a_batch_keeps_the_valid_events_and_reports_each_rejection = (
    behaviour.test_a_batch_keeps_the_valid_events_and_reports_each_rejection
)
test_a_retried_batch_stores_nothing_twice = behaviour.test_a_retried_batch_stores_nothing_twice
test_the_same_external_id_twice_in_one_batch_is_stored_once = (
    behaviour.test_the_same_external_id_twice_in_one_batch_is_stored_once
)
test_last_activity_is_the_newest_event_and_never_goes_back = (
    behaviour.test_last_activity_is_the_newest_event_and_never_goes_back
)
test_one_signal_per_batch_names_every_touched_lead = behaviour.test_one_signal_per_batch_names_every_touched_lead
test_a_full_batch_of_1000_is_accepted = behaviour.test_a_full_batch_of_1000_is_accepted
