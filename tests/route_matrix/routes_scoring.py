"""The qualified-lead definition: pages (scoring.urls) and API (scoring.api_urls).

Every role may read the definition and take part; marketing, reps and managers sign
off (admins get 403 on approve). A lead's score follows lead visibility: sales gets
404 for a pool lead or another rep's lead.
"""

from django.db.models import Max
from django.utils import timezone

from scoring.models import Approval, Comment, DefinitionVersion, PoolRescore, Preview

from . import Route

ANON = 302  # pages send anonymous users to the login page
API_ANON = 401

RULES = [
    {
        "id": "r1",
        "type": "fit",
        "label": "Software",
        "field": "industry",
        "op": "equals",
        "value": "Software",
        "points": 50,
    }
]


def everyone(status: int, anonymous: int = ANON) -> dict[str, int]:
    return {"anonymous": anonymous, "marketer": status, "rep": status, "other_rep": status, "manager": status}


def page(status: int) -> dict[str, int]:
    return everyone(status) | {"admin": status}


def api(status: int) -> dict[str, int]:
    return everyone(status, API_ANON) | {"admin": status}


def _version(state: str = DefinitionVersion.State.DRAFT) -> DefinitionVersion:
    number = (DefinitionVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    now = timezone.now()
    return DefinitionVersion.objects.create(
        number=number, state=state, rules=RULES, threshold=50, created_at=now, updated_at=now
    )


def draft(leads) -> dict:
    return {"version_id": _version().pk}


def proposed(leads) -> dict:
    return {"version_id": _version(DefinitionVersion.State.PROPOSED).pk}


def two_versions(leads) -> dict:
    return {"version_id": _version().pk, "other_id": _version().pk}


def preview(leads) -> dict:
    version = _version(DefinitionVersion.State.PROPOSED)
    done = Preview.objects.create(version=version, revision=1, state="done", created_at=timezone.now(), data={})
    return {"preview_id": done.pk}


def active(leads) -> dict:
    _version(DefinitionVersion.State.ACTIVE)
    return {}


def _version_of(kwargs) -> DefinitionVersion:
    return DefinitionVersion.objects.get(pk=kwargs["version_id"])


def drafted(threshold: int):
    def effect(leads, kwargs, user):
        assert DefinitionVersion.objects.filter(author=user, state="draft", threshold=threshold).count() == 1

    return effect


def edited(leads, kwargs, user):
    assert _version_of(kwargs).revision == 2


def proposed_now(leads, kwargs, user):
    assert _version_of(kwargs).state == DefinitionVersion.State.PROPOSED


def approved(leads, kwargs, user):
    assert Approval.objects.filter(version_id=kwargs["version_id"], user=user, withdrawn_at=None).count() == 1


def copied(leads, kwargs, user):
    assert DefinitionVersion.objects.filter(based_on_id=kwargs["version_id"], author=user, state="draft").count() == 1


def commented(body: str):
    def effect(leads, kwargs, user):
        assert Comment.objects.filter(version_id=kwargs["version_id"], author=user, body=body).count() == 1

    return effect


def preview_requested(leads, kwargs, user):
    assert Preview.objects.filter(version_id=kwargs["version_id"], requested_by=user).count() == 1


def failed_rescore(leads) -> dict:
    rescore = PoolRescore.objects.create(
        state=PoolRescore.State.FAILED, attempts=3, error="boom", started_at=timezone.now()
    )
    return {"rescore_id": rescore.pk}


def rescore_queued_again(leads, kwargs, user):
    rescore = PoolRescore.objects.get(pk=kwargs["rescore_id"])
    assert (rescore.state, rescore.attempts, rescore.error) == (PoolRescore.State.QUEUED, 0, "")


EMPTY_EDITOR = {"title": "", "threshold": "50", "rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"}

ROUTES = [
    # Pages
    Route("scoring:definition", page(200)),
    Route("scoring:version_create", page(200)),
    Route("scoring:version_create", page(302), method="post", data=EMPTY_EDITOR, effect=drafted(50)),
    Route("scoring:version_detail", page(200), kwargs=draft),
    Route("scoring:version_edit", page(200), kwargs=draft),
    Route(
        "scoring:version_edit",
        page(302),
        method="post",
        kwargs=draft,
        data=EMPTY_EDITOR | {"title": "Edited", "revision": "1"},
        effect=edited,
    ),
    Route("scoring:version_propose", page(302), method="post", kwargs=draft, effect=proposed_now),
    Route("scoring:version_propose", page(405) | {"anonymous": ANON}, kwargs=draft),
    Route(
        "scoring:version_approve",
        page(302) | {"admin": 403},
        method="post",
        kwargs=proposed,
        data={"revision": 1},
        effect=approved,
    ),
    Route("scoring:version_copy", page(302), method="post", kwargs=draft, effect=copied),
    Route(
        "scoring:version_comment",
        page(302),
        method="post",
        kwargs=draft,
        data={"body": "Looks right"},
        effect=commented("Looks right"),
    ),
    Route("scoring:version_diff", page(200), kwargs=two_versions),
    Route("scoring:version_preview", page(302), method="post", kwargs=proposed, effect=preview_requested),
    Route("scoring:preview_status", page(200), kwargs=preview),
    Route("scoring:rescore_status", page(200)),
    Route("scoring:rescore_run_again", page(302), method="post", kwargs=failed_rescore, effect=rescore_queued_again),
    # API
    Route("api-definition-versions", api(200), api=True),
    Route(
        "api-definition-versions",
        api(201),
        method="post",
        data={"threshold": 40, "rules": RULES},
        api=True,
        effect=drafted(40),
    ),
    Route("api-definition-version", api(200), kwargs=draft, api=True),
    Route(
        "api-definition-version",
        api(200),
        method="patch",
        kwargs=draft,
        data={"revision": 1, "title": "Edited"},
        api=True,
        effect=edited,
    ),
    Route("api-definition-version-propose", api(200), method="post", kwargs=draft, api=True, effect=proposed_now),
    Route(
        "api-definition-version-approve",
        api(200) | {"admin": 403},
        method="post",
        kwargs=proposed,
        data={},
        api=True,
        effect=approved,
    ),
    Route("api-definition-version-copy", api(201), method="post", kwargs=draft, api=True, effect=copied),
    Route("api-definition-version-comments", api(200), kwargs=draft, api=True),
    Route(
        "api-definition-version-comments",
        api(201),
        method="post",
        kwargs=draft,
        data={"body": "Hm"},
        api=True,
        effect=commented("Hm"),
    ),
    Route("api-definition-version-diff", api(200), kwargs=two_versions, api=True),
    Route(
        "api-definition-version-preview", api(202), method="post", kwargs=proposed, api=True, effect=preview_requested
    ),
    Route("api-definition-preview", api(200), kwargs=preview, api=True),
    Route("api-definition-active", api(200), kwargs=active, api=True),
    # A lead's score: a nurture pool lead is a 404 for sales, as if it did not exist.
    Route(
        "api-lead-score",
        api(200) | {"rep": 404, "other_rep": 404, "manager": 404},
        kwargs=lambda leads: {"lead_id": leads.pool.pk},
        api=True,
    ),
    Route(
        "api-lead-score", api(200) | {"other_rep": 404}, kwargs=lambda leads: {"lead_id": leads.rep_owned.pk}, api=True
    ),
]
