import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client
from django.urls import reverse

from accounts.backends import UserWithProfileBackend
from accounts.models import ROLE_GROUPS, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role_user", "home"),
    [
        ("marketer", "/leads/pool/"),
        ("rep", "/leads/queue/"),
        ("manager", "/leads/team/"),
        ("admin", "/leads/team/"),
    ],
)
def test_each_role_lands_on_its_own_home_page(client, cast, role_user, home):
    user = cast.by_role(role_user)
    response = client.post(reverse("login"), {"username": user.username, "password": "leadhandoff"})
    assert response.status_code == 302
    assert client.get(response.url).url == home


def test_wrong_password_shows_a_clear_message_and_no_session(client, cast):
    response = client.post(reverse("login"), {"username": "rep1", "password": "nope"})
    assert response.status_code == 200
    assert "That username and password do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client, cast):
    client.force_login(cast.rep)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("leads:my_queue")).status_code == 302  # back to login


def test_password_change_needs_the_old_password(client, cast):
    client.force_login(cast.rep)
    url = reverse("password_change")
    bad = client.post(
        url, {"old_password": "wrong", "new_password1": "N3w-pass-phrase!", "new_password2": "N3w-pass-phrase!"}
    )
    assert bad.status_code == 200
    assert "old password was entered incorrectly" in bad.content.decode()
    good = client.post(
        url, {"old_password": "leadhandoff", "new_password1": "N3w-pass-phrase!", "new_password2": "N3w-pass-phrase!"}
    )
    assert good.status_code == 302
    cast.rep.refresh_from_db()
    assert cast.rep.check_password("N3w-pass-phrase!")


def test_navigation_shows_only_what_the_role_may_use(client, cast):
    client.force_login(cast.rep)
    page = client.get(reverse("leads:my_queue")).content.decode()
    assert "My queue" in page
    assert "Nurture pool" not in page
    client.force_login(cast.marketer)
    page = client.get(reverse("leads:pool")).content.decode()
    assert "Nurture pool" in page
    assert "My queue" not in page


def test_refused_page_is_the_friendly_403(client, cast):
    client.force_login(cast.rep)
    response = client.get(reverse("leads:pool"))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_unknown_page_is_the_friendly_404(client, cast):
    client.force_login(cast.rep)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_every_role_has_its_group_with_permissions(cast):
    for role, group_name in ROLE_GROUPS.items():
        group = Group.objects.get(name=group_name)
        assert group.permissions.exists(), role
    assert cast.marketer.groups.filter(name="Marketing").exists()
    assert cast.rep.has_perm("scoring.view_definitionversion")
    assert not cast.rep.has_perm("leads.view_lead")
    assert cast.admin.is_staff


def test_changing_role_moves_the_user_between_groups(db):
    from accounts.services import user_set_role

    user = UserFactory(role=Role.REP)
    user_set_role(user=user, role=Role.MANAGER)
    assert list(user.groups.values_list("name", flat=True)) == ["Sales manager"]


def test_only_the_admin_role_reaches_the_admin_site(client, cast):
    for user, expected in [(cast.rep, 302), (cast.manager, 302), (cast.marketer, 302), (cast.admin, 200)]:
        client.force_login(user)
        assert client.get("/admin/").status_code == expected, user.username


def test_a_server_error_shows_the_friendly_500_page_without_touching_the_database(rf, django_assert_num_queries):
    from leadhandoff.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/anything/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_a_signed_in_request_carries_the_user_itself_and_their_team(client, cast, django_assert_num_queries):
    """accounts.middleware resolves request.user up front (no lazy proxy on each read), with the
    rep's profile joined (accounts.backends): one query for both."""
    client.force_login(cast.rep)
    with django_assert_num_queries(0):
        anonymous = Client().get(reverse("login"))
    assert type(anonymous.wsgi_request.user) is AnonymousUser
    response = client.get(reverse("leads:my_queue"))
    user = response.wsgi_request.user
    assert type(user) is User and user.pk == cast.rep.pk
    with django_assert_num_queries(0):
        assert user.rep_profile.team_id == cast.team.pk


def _columns(obj) -> dict:
    return {f.attname: repr(getattr(obj, f.attname)) for f in type(obj)._meta.concrete_fields}


def test_the_backend_reads_the_user_and_profile_as_the_orm_does(cast, django_assert_num_queries):
    """accounts.backends loads the user and their rep profile in a statement of its own: every
    column equals the ORM's select_related("rep_profile"), the profile (or its absence) is cached,
    and inactive or unknown users are nobody."""
    backend = UserWithProfileBackend()
    for user in (cast.rep, cast.marketer, cast.admin):
        expected = User.objects.select_related("rep_profile").get(pk=user.pk)
        with django_assert_num_queries(1):
            got = backend.get_user(str(user.pk))
            profile = getattr(got, "rep_profile", None)
        assert _columns(got) == _columns(expected)
        expected_profile = getattr(expected, "rep_profile", None)
        assert (_columns(profile) if profile else None) == (_columns(expected_profile) if expected_profile else None)
    assert backend.get_user(cast.rep.pk).rep_profile.team_id == cast.team.pk
    User.objects.filter(pk=cast.marketer.pk).update(is_active=False)
    assert backend.get_user(cast.marketer.pk) is None
    assert backend.get_user(10**9) is None and backend.get_user("not a number") is None
