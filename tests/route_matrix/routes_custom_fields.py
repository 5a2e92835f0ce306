"""Custom fields and event kinds (leads.fields): marketing and admins write, every role reads the API."""

from django.utils import timezone

from leads.models import CustomField, EventKindDefinition

from . import Route

ANON = 302
API_ANON = 401
PAGE = {"anonymous": ANON, "marketer": 200, "rep": 403, "other_rep": 403, "manager": 403, "admin": 200}
READ_API = {"anonymous": API_ANON, "marketer": 200, "rep": 200, "other_rep": 200, "manager": 200, "admin": 200}


def _marketing(ok: int, anonymous: int = ANON) -> dict[str, int]:
    return {"anonymous": anonymous, "marketer": ok, "rep": 403, "other_rep": 403, "manager": 403, "admin": ok}


def _field(leads) -> dict[str, int]:
    field = CustomField.objects.create(
        name="lead_quality", label="Lead quality", kind="text", created_at=timezone.now()
    )
    return {"field_id": field.pk}


def _kind(leads) -> dict[str, int]:
    kind = EventKindDefinition.objects.create(name="trade_show", label="Trade show", created_at=timezone.now())
    return {"kind_id": kind.pk}


def field_declared(leads, kwargs, user):
    assert CustomField.objects.filter(name="total_visits", kind="number").exists()


def field_relabelled(leads, kwargs, user):
    assert CustomField.objects.get(pk=kwargs["field_id"]).label == "Quality"


def field_deleted(leads, kwargs, user):
    assert not CustomField.objects.filter(pk=kwargs["field_id"]).exists()


def kind_added(leads, kwargs, user):
    assert EventKindDefinition.objects.filter(name="trade_show_visit").exists()


def kind_deleted(leads, kwargs, user):
    assert not EventKindDefinition.objects.filter(pk=kwargs["kind_id"]).exists()


NEW_FIELD = {"name": "total_visits", "label": "Total visits", "kind": "number"}

ROUTES = [
    Route("leads:custom_fields", PAGE),
    Route("leads:custom_fields", _marketing(302), method="post", data=NEW_FIELD, effect=field_declared),
    Route("leads:custom_field_edit", PAGE, kwargs=_field),
    Route(
        "leads:custom_field_edit",
        _marketing(302),
        method="post",
        kwargs=_field,
        data={"label": "Quality", "kind": "text"},
        effect=field_relabelled,
    ),
    Route("leads:custom_field_delete", _marketing(302), method="post", kwargs=_field, effect=field_deleted),
    Route(
        "leads:event_kind_create",
        _marketing(302),
        method="post",
        data={"name": "trade_show_visit", "label": "Trade show visit"},
        effect=kind_added,
    ),
    Route("leads:event_kind_delete", _marketing(302), method="post", kwargs=_kind, effect=kind_deleted),
    Route("api-custom-fields", READ_API, api=True),
    Route(
        "api-custom-field-create",
        _marketing(201, API_ANON),
        method="post",
        data=NEW_FIELD,
        api=True,
        format="json",
        effect=field_declared,
    ),
    Route(
        "api-custom-field",
        _marketing(200, API_ANON),
        method="put",
        kwargs=_field,
        data={"label": "Quality"},
        api=True,
        format="json",
        effect=field_relabelled,
    ),
    Route(
        "api-custom-field",
        _marketing(204, API_ANON),
        method="delete",
        kwargs=_field,
        api=True,
        effect=field_deleted,
    ),
    Route("api-event-kinds", READ_API, api=True),
    Route(
        "api-event-kind-create",
        _marketing(201, API_ANON),
        method="post",
        data={"name": "trade_show_visit", "label": "Trade show visit"},
        api=True,
        format="json",
        effect=kind_added,
    ),
    Route("api-event-kind", _marketing(204, API_ANON), method="delete", kwargs=_kind, api=True, effect=kind_deleted),
]
