"""The SLA dashboard's short figures cache: the page says when its figures were computed, and
they are never older than that instant nor older than SLA_DASHBOARD_CACHE_SECONDS."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import ClockOutcome, FirstContactClock
from tests.sla.test_dashboard import NOW, URL, H, make

pytestmark = pytest.mark.django_db
API = "/api/v1/sla/dashboard/"


def figures_at(client, user, at, url=URL, **params):
    client.force_login(user)
    with time_machine.travel(at, tick=False):
        return client.get(url, params)


def came_due_by_hand(team, start, end, now):
    """Clocks of the team that came due in [start, end) at `now`, counted here from the rows."""
    return sum(
        1
        for c in FirstContactClock.objects.filter(team=team, due_at__gte=start, due_at__lt=end)
        if c.outcome in (ClockOutcome.MET, ClockOutcome.BREACHED) or (c.outcome == "" and c.due_at <= now)
    )


def as_of(response) -> str:
    return re.search(r'data-testid="as-of"[^>]*>Figures as of (\d\d:\d\d)\.', response.content.decode()).group(1)


def test_figures_are_computed_once_a_minute_and_say_when(client, cast, settings):
    settings.SLA_DASHBOARD_CACHE_SECONDS = 60
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=2), contact_after=H)
    first = figures_at(client, cast.manager, NOW)
    assert first.context["data"].overall.compliance.came_due == 1
    assert first.context["data"].now == NOW
    assert as_of(first) == "15:00"

    # A breach lands; 30 s later the page still shows the 15:00 figures and says so.
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=1))
    later = NOW + datetime.timedelta(seconds=30)
    with CaptureQueriesContext(connection) as queries:
        cached = figures_at(client, cast.manager, later)
    assert cached.context["data"].now == NOW and as_of(cached) == "15:00"
    assert cached.context["data"].overall.compliance.came_due == 1
    # The hit reads the session and user, the team ids of the key, nothing of the clocks.
    assert not any("leads_firstcontactclock" in q["sql"] for q in queries.captured_queries)

    # Past the minute: computed again, with the breach, and a new instant.
    fresh_at = NOW + datetime.timedelta(seconds=61)
    fresh = figures_at(client, cast.manager, fresh_at)
    data = fresh.context["data"]
    assert data.now == fresh_at and as_of(fresh) == "15:01"
    assert data.overall.compliance.came_due == came_due_by_hand(cast.team, data.period.start, data.period.end, fresh_at)
    assert data.overall.compliance.came_due == 2
    # The figures' HTML (cached with them) is the new figures', not the 15:00 page's.
    assert 'figure=came_due">2 due</a>' in fresh.content.decode()
    assert 'figure=came_due">1 due</a>' in cached.content.decode()


def test_the_figures_are_never_older_than_their_stated_instant(client, cast, settings):
    """Whatever the order of visits, the figures shown equal a count made at the stated instant."""
    settings.SLA_DASHBOARD_CACHE_SECONDS = 60
    step = datetime.timedelta(seconds=25)
    for i in range(6):
        at = NOW + i * step
        with time_machine.travel(at, tick=False):
            make(cast.rep, cast.team, due=at - datetime.timedelta(hours=i + 1))
        data = figures_at(client, cast.manager, at).context["data"]
        assert at - datetime.timedelta(seconds=60) <= data.now <= at
        with time_machine.travel(data.now, tick=False):
            # What the rows held at the stated instant: clocks created after it are left out.
            made = [c for c in FirstContactClock.objects.filter(team=cast.team) if c.due_at <= data.now]
            want = sum(1 for c in made if data.period.start <= c.due_at < data.period.end)
        created_after = sum(1 for j in range(i + 1) if NOW + j * step > data.now)
        assert data.overall.compliance.came_due == want - created_after


def test_each_scope_and_period_has_its_own_figures(client, cast, settings):
    settings.SLA_DASHBOARD_CACHE_SECONDS = 60
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=2), contact_after=H)
    make(cast.other_rep, cast.other_team, due=NOW - datetime.timedelta(days=20))
    make(cast.other_rep, cast.other_team, due=NOW - datetime.timedelta(days=3))
    assert figures_at(client, cast.manager, NOW).context["data"].overall.compliance.came_due == 1
    # Another manager's teams are another entry: never the first manager's figures.
    response = figures_at(client, cast.other_manager, NOW)
    other = response.context["data"]
    # Nor their HTML: the figures' fragment is cached per scope too.
    assert f'data-team-id="{cast.team.id}"' not in response.content.decode()
    assert f'data-team-id="{cast.other_team.id}"' in response.content.decode()
    assert [t.id for t in other.teams] == [cast.other_team.id]
    assert other.overall.compliance.came_due == 2
    assert figures_at(client, cast.other_manager, NOW, period="7").context["data"].overall.compliance.came_due == 1
    custom = figures_at(
        client,
        cast.other_manager,
        NOW,
        period="custom",
        start=(NOW - datetime.timedelta(days=21)).date().isoformat(),
        end=(NOW - datetime.timedelta(days=10)).date().isoformat(),
    ).context["data"]
    assert custom.overall.compliance.came_due == 1


def test_the_api_and_the_csv_give_the_pages_figures_and_instant(client, cast, settings):
    settings.SLA_DASHBOARD_CACHE_SECONDS = 60
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=2), contact_after=H)
    figures_at(client, cast.manager, NOW)
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=1))
    body = figures_at(client, cast.manager, NOW + datetime.timedelta(seconds=10), url=API).json()
    assert body["as_of"].startswith("2026-11-23T15:00:00")
    assert body["overall"]["came_due"] == 1
    csv_text = figures_at(client, cast.manager, NOW + datetime.timedelta(seconds=10), url=URL + "export.csv")
    assert csv_text.content.decode().splitlines()[1].split(",")[3] == "1"


def test_zero_seconds_computes_every_time(client, cast, settings):
    settings.SLA_DASHBOARD_CACHE_SECONDS = 0
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=2), contact_after=H)
    assert figures_at(client, cast.manager, NOW).context["data"].overall.compliance.came_due == 1
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=1))
    assert figures_at(client, cast.manager, NOW).context["data"].overall.compliance.came_due == 2
