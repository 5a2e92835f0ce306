"""The roster page and endpoint (accounts.roster.views, .apis): admins only; preview, import, report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Role, Team, User
from tests.conftest import ROLE_NAMES

pytestmark = pytest.mark.django_db

ROSTER = "sales_agent,manager,regional_office\nAnna Snelling,Dustin Brinkmann,Central\nMoses Frase,Cara Losch,East\n"


def upload(text: str | bytes, name: str = "teams.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


def created_users() -> list[str]:
    return sorted(User.objects.filter(username__in=["anna.snelling", "moses.frase"]).values_list("username", flat=True))


# --- The page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_only_admins_use_the_roster_page(cast, client, role):
    user = cast.by_role(role)
    if user:
        client.force_login(user)
    response = client.get(reverse("roster"))
    expected = {"anonymous": 302, "admin": 200}.get(role, 403)
    assert response.status_code == expected
    posted = client.post(reverse("roster_import"), {"name": "t.csv", "text": ROSTER})
    assert posted.status_code == {"anonymous": 302, "admin": 302}.get(role, 403)
    assert created_users() == (["anna.snelling", "moses.frase"] if role == "admin" else [])


def test_the_page_lists_teams_by_region_with_managers_and_reps_and_is_in_the_admins_nav(cast, client):
    cast.team.region = "North"
    cast.team.save()
    client.force_login(cast.admin)
    page = client.get(reverse("roster")).content.decode()
    assert 'href="/accounts/roster/"' in page  # the navigation
    table = page[page.index('data-testid="roster-teams"') :]
    assert table.index("North") < table.index("East") and "manager" in table.lower()
    client.force_login(cast.manager)
    assert 'href="/accounts/roster/"' not in client.get(reverse("leads:team_dashboard")).content.decode()


def test_preview_shows_what_each_row_does_and_writes_nothing_then_import_does_it(cast, client):
    client.force_login(cast.admin)

    preview = client.post(reverse("roster"), {"file": upload(ROSTER)})

    assert preview.status_code == 200
    html = preview.content.decode()
    assert html.count('data-testid="roster-row"') == 2
    assert "Dustin Brinkmann&#x27;s team" in html and "create" in html
    assert "Dry run, nothing written" in html
    assert created_users() == []
    confirm = preview.context["confirm"]
    assert confirm.initial == {"name": "teams.csv", "text": ROSTER}

    done = client.post(reverse("roster_import"), {"name": "teams.csv", "text": ROSTER}, follow=True)

    assert done.redirect_chain == [(reverse("roster"), 302)]
    assert created_users() == ["anna.snelling", "moses.frase"]
    assert "Roster teams.csv imported: 2 reps created" in done.content.decode()
    assert Team.objects.get(name="Cara Losch's team").region == "East"


def test_a_preview_with_row_errors_lists_them_and_offers_no_import(cast, client):
    client.force_login(cast.admin)
    response = client.post(reverse("roster"), {"file": upload("rep,manager\nAnn Lee,Boss\n,Boss\nAnn Lee,Boss\n")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "has no rep name or email" in html and "duplicate: the same rep as line 2" in html
    assert 'data-testid="roster-import"' not in html
    assert "2 of 3 rows have errors; nothing was imported." in html
    assert not User.objects.filter(username="ann.lee").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04binary", "looks like an Excel workbook"),
        (b"region,office\nA,B\n", "No column names the rep"),
        (b"rep,team\n", "The roster file has no rows."),
    ],
)
def test_an_unusable_file_is_refused_on_the_form(cast, client, data, message):
    client.force_login(cast.admin)
    response = client.post(reverse("roster"), {"file": upload(data)})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_import_refused_since_the_preview_shows_the_rows_and_writes_nothing(cast, client):
    client.force_login(cast.admin)
    # Since the preview, someone made "Anna Snelling" a marketer.
    User.objects.create(username="anna.snelling", first_name="Anna", last_name="Snelling", role=Role.MARKETING)
    response = client.post(reverse("roster_import"), {"name": "teams.csv", "text": ROSTER})
    assert response.status_code == 400
    assert "not a sales rep" in response.content.decode()
    assert not User.objects.filter(username="moses.frase").exists()


# --- The API ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_only_admins_may_post_a_roster(cast, api, role):
    response = api.as_user(cast.by_role(role)).post(
        reverse("api-roster-import"), {"file": upload(ROSTER)}, format="multipart"
    )
    assert response.status_code == {"anonymous": 401, "admin": 200}.get(role, 403)
    assert created_users() == (["anna.snelling", "moses.frase"] if role == "admin" else [])


def test_the_api_reports_each_row_and_dry_runs(cast, api):
    client = api.as_user(cast.admin)
    url = reverse("api-roster-import")

    dry = client.post(url, {"file": upload(ROSTER), "dry_run": "true"}, format="multipart")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert created_users() == []

    body = client.post(url, {"file": upload(ROSTER)}, format="multipart").json()
    assert body["summary"]["reps_created"] == 2 and body["summary"]["teams_created"] == 2
    assert body["rows"][0] | {"changes": []} == {
        "line": 2,
        "rep": "Anna Snelling",
        "email": "",
        "username": "anna.snelling",
        "team": "Dustin Brinkmann's team",
        "region": "Central",
        "manager": "Dustin Brinkmann",
        "action": "create",
        "changes": [],
    }
    assert [t["name"] for t in body["teams"]] == ["Dustin Brinkmann's team", "Cara Losch's team"]
    assert body["message"].endswith("2 teams in 2 regions.")

    again = client.post(url, {"file": upload(ROSTER)}, format="multipart").json()
    assert again["summary"]["reps_unchanged"] == 2 and again["summary"]["reps_created"] == 0


def test_the_api_answers_400_with_row_and_file_messages(cast, api):
    client = api.as_user(cast.admin)
    url = reverse("api-roster-import")

    rows = client.post(url, {"file": upload("rep,manager\nAnn Lee,Boss\n,Boss\n")}, format="multipart")
    assert rows.status_code == 400
    assert rows.json() == {
        "detail": "1 of 2 rows have errors; nothing was imported.",
        "fields": {"line 3": ["has no rep name or email"]},
    }
    assert not User.objects.filter(username="ann.lee").exists()

    header = client.post(url, {"file": upload("office\nX\n")}, format="multipart")
    assert header.status_code == 400 and "file" in header.json()["fields"]

    binary = client.post(url, {"file": upload(b"\x89PNG....")}, format="multipart")
    assert binary.status_code == 400 and "PNG image" in binary.json()["detail"]

    missing = client.post(url, {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["fields"]


def test_the_endpoint_is_in_the_schema_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    operation = schema["paths"]["/api/v1/roster/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "400"} <= set(operation["responses"])
    assert [m for m in messages if "Roster" in m or "roster" in m] == []
