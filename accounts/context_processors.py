import functools

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from .access import user_has_role
from .models import Role

# (label, url name, roles that see it). Only routes the role may use are shown.
NAVIGATION = [
    ("Nurture pool", "leads:pool", (Role.MARKETING, Role.ADMIN)),
    ("Imports", "leads:import_list", (Role.MARKETING, Role.ADMIN)),
    ("Events import", "leads:event_import", (Role.MARKETING, Role.ADMIN)),
    ("Custom fields", "leads:custom_fields", (Role.MARKETING, Role.ADMIN)),
    ("Rejections", "leads:rejections", (Role.MARKETING, Role.ADMIN)),
    ("Definition", "scoring:definition", (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)),
    ("My queue", "leads:my_queue", (Role.REP,)),
    ("Add prospect", "leads:rep_sourced_create", (Role.REP,)),
    ("Team dashboard", "leads:team_dashboard", (Role.MANAGER, Role.ADMIN)),
    ("Routing rules", "leads:rule_list", (Role.MANAGER, Role.ADMIN)),
    ("Roster", "roster", (Role.ADMIN,)),
    ("Policies", "policies:list", (Role.MANAGER, Role.ADMIN)),
    ("Reports", "reports:report_list", (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)),
    ("Cherry-pick index", "reports:cherry_pick", (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)),
    ("Credit", "reports:credit", (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)),
    ("Cycle length", "reports:cycle", (Role.MARKETING, Role.MANAGER, Role.ADMIN)),
    ("SLA dashboard", "sla_dashboard:dashboard", (Role.MARKETING, Role.MANAGER, Role.ADMIN)),
    ("Admin", "admin:index", (Role.ADMIN,)),
]


@functools.cache
def _routed(script_prefix: str, urlconf: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """NAVIGATION with each page's URL, reversed once per process (and URL configuration), not
    thirteen reverse() calls on every page; pages not routed yet are left out."""
    routed = []
    for label, url_name, roles in NAVIGATION:
        try:
            routed.append((label, reverse(url_name, urlconf=urlconf), roles))
        except NoReverseMatch:  # the page belongs to a later issue and is not routed yet
            continue
    return tuple(routed)


# The links base.html writes on every page (the brand, the bell, the user menu).
BASE_LINKS = {
    "home": "home",
    "notifications": "notifications:list",
    "bell": "notifications:bell",
    "schedule": "my_schedule",
    "password_change": "password_change",
    "notification_preferences": "notifications:preferences",
    "logout": "logout",
}


@functools.cache
def _base_links(script_prefix: str, urlconf: str) -> dict[str, str]:
    return {key: reverse(url_name, urlconf=urlconf) for key, url_name in BASE_LINKS.items()}


def navigation(request: HttpRequest) -> dict:
    links = _base_links(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "links": links}
    items = []
    for label, url, roles in _routed(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF):
        if user_has_role(user, roles):
            items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    return {"nav_items": items, "links": links}
