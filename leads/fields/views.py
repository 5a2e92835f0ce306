"""Marketing's page for custom fields and event kinds (marketing and admins; 403 for sales)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import MARKETING_SIDE, role_required
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add
from leads.models import CustomField, EventKind, EventKindDefinition

from . import selectors, services
from .forms import CustomFieldForm, EventKindForm

# The page shows both forms: the event kind form's ids must not collide with the field form's.
KIND_FORM_IDS = "id_kind_%s"


def _page(request, *, field_form=None, kind_form=None, editing=None, status=200) -> HttpResponse:
    return render(
        request,
        "leads/fields/custom_fields.html",
        {
            "fields": selectors.custom_fields_list(),
            "event_kinds": selectors.event_kinds_custom(),
            "builtin_kinds": EventKind.choices,
            "field_form": field_form or CustomFieldForm(),
            "kind_form": kind_form or EventKindForm(auto_id=KIND_FORM_IDS),
            "editing": editing,
        },
        status=status,
    )


@role_required(*MARKETING_SIDE)
def custom_fields(request: HttpRequest) -> HttpResponse:
    """GET: the fields and event kinds; POST: declare a custom field."""
    if request.method != "POST":
        return _page(request)
    form = CustomFieldForm(request.POST)
    if form.is_valid():
        try:
            field = services.custom_field_create(**form.cleaned_data, now=timezone.now())
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Custom field “{field.label}” declared.")
            return redirect("leads:custom_fields")
    return _page(request, field_form=form, status=400)


@role_required(*MARKETING_SIDE)
def custom_field_edit(request: HttpRequest, field_id: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=field_id)
    if request.method != "POST":
        initial = {
            "name": field.name,
            "label": field.label,
            "kind": field.kind,
            "choices": ", ".join(field.choices),
            "personal": field.personal,
        }
        return _page(request, field_form=CustomFieldForm(initial=initial), editing=field)
    form = CustomFieldForm({**request.POST.dict(), "name": field.name})
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.custom_field_update(
                field=field, label=data["label"], choices=data["choices"], personal=data["personal"], kind=data["kind"]
            )
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Custom field “{field.label}” saved.")
            return redirect("leads:custom_fields")
    return _page(request, field_form=form, editing=field, status=400)


@require_POST
@role_required(*MARKETING_SIDE)
def custom_field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=field_id)
    try:
        services.custom_field_delete(field=field)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Custom field “{field.label}” deleted.")
    return redirect("leads:custom_fields")


@require_POST
@role_required(*MARKETING_SIDE)
def event_kind_create(request: HttpRequest) -> HttpResponse:
    form = EventKindForm(request.POST, auto_id=KIND_FORM_IDS)
    if form.is_valid():
        try:
            kind = services.event_kind_create(**form.cleaned_data, now=timezone.now())
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Event kind “{kind.label}” added.")
            return redirect("leads:custom_fields")
    return _page(request, kind_form=form, status=400)


@require_POST
@role_required(*MARKETING_SIDE)
def event_kind_delete(request: HttpRequest, kind_id: int) -> HttpResponse:
    kind = get_object_or_404(EventKindDefinition, pk=kind_id)
    try:
        services.event_kind_delete(kind=kind)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Event kind “{kind.label}” deleted.")
    return redirect("leads:custom_fields")
