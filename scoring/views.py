"""The definition pages: the active version, versions, the editor, sign-off, discussion, preview.

Every role may read the definition and take part (draft, edit, propose, comment,
preview); marketing and sales sign off. Previews name pool leads only to marketing.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import role_required
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add

from . import selectors, services
from .forms import ApproveForm, CommentForm, editor_forms
from .models import DefinitionVersion, Preview
from .rejections import rejections_for_user

READERS = services.PARTICIPANT_ROLES
SIGNERS = services.SIGNOFF_ROLES


def _fail(request: HttpRequest, exc: ApplicationError) -> None:
    """A refused button press: the service's message says what to do instead."""
    messages.error(request, exc.message)


@role_required(*READERS)
def definition(request: HttpRequest) -> HttpResponse:
    active = selectors.active_version()
    versions = list(selectors.versions_list())
    return render(
        request,
        "scoring/definition.html",
        {
            "active": active,
            "groups": selectors.rules_grouped(version=active) if active else None,
            "rejections": rejections_for_user(version=active.number, user=request.user) if active else None,
            "versions": versions,
            **_rescore_context(request),
            "scoring": selectors.scoring_health(),
        },
    )


def _rescore_context(request: HttpRequest) -> dict:
    rescore = selectors.pool_rescore_latest()
    last_done = rescore if rescore is not None and rescore.state == rescore.State.DONE else None
    if rescore is not None and last_done is None:
        last_done = selectors.pool_rescore_last_done()
    return {
        "rescore": rescore,
        "rescore_counts": selectors.pool_rescore_counts(rescore=rescore, user=request.user),
        # The status reflects the last completed rescore, and says so when leads were scored without one.
        "last_done": last_done,
        "scored_without_rescore": last_done is None and selectors.pool_has_scores(),
    }


@role_required(*READERS)
def rescore_status(request: HttpRequest) -> HttpResponse:
    """The pool-rescore panel of the definition page; htmx polls it while a rescore runs."""
    return render(request, "scoring/_pool_rescore.html", _rescore_context(request))


@require_POST
@role_required(*READERS)
def rescore_run_again(request: HttpRequest, rescore_id: int) -> HttpResponse:
    """The failed pool rescore's "Run again" button; the panel then shows it waiting for a worker."""
    if not services.pool_rescore_run_again(rescore_id=rescore_id):
        messages.info(request, "That pool rescore is not failed: nothing to run again.")
    return redirect("scoring:definition")


def _detail_context(request: HttpRequest, version: DefinitionVersion) -> dict:
    approvals = list(selectors.approvals_history(version=version))
    live = [a for a in approvals if a.withdrawn_at is None]
    side = services.APPROVAL_SIDE.get(request.user.role)
    already = any(a.user_id == request.user.pk for a in live)
    active = selectors.active_version()
    others = [v for v in selectors.versions_list() if v.pk != version.pk]
    preview = selectors.preview_latest(version=version)
    return {
        **_preview_context(request, preview),
        "version": version,
        "groups": selectors.rules_grouped(version=version),
        # Rejections of the leads this version promoted (none before it was ever active).
        "rejections": rejections_for_user(version=version.number, user=request.user),
        "thread": list(selectors.version_thread(version=version)),
        "approvals": approvals,
        "signoff": services.signoff_status(live),
        "can_approve": version.state == DefinitionVersion.State.PROPOSED and side is not None and not already,
        "already_approved": already,
        "editable": version.state in services.EDITABLE_STATES,
        "active": active,
        "others": others,
        "comment_form": CommentForm(),
        "approve_form": ApproveForm(initial={"revision": version.revision}),
    }


@role_required(*READERS)
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    compare = request.GET.get("compare", "")
    if compare.isdigit():
        return redirect("scoring:version_diff", version_id=version.pk, other_id=int(compare))
    return render(request, "scoring/version_detail.html", _detail_context(request, version))


def _editor(
    request: HttpRequest, *, version: DefinitionVersion | None, form, formset, status: int = 200, **extra
) -> HttpResponse:
    context = {"version": version, "form": form, "formset": formset, **extra}
    return render(request, "scoring/editor.html", context, status=status)


@role_required(*READERS)
def version_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form, formset = editor_forms()
        return _editor(request, version=None, form=form, formset=formset)
    form, formset = editor_forms(data=request.POST)
    if form.is_valid() and formset.is_valid():
        try:
            version = services.definition_draft_create(
                actor=request.user,
                now=timezone.now(),
                rules=formset.rules,
                threshold=form.cleaned_data["threshold"],
                title=form.cleaned_data["title"],
            )
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Draft v{version.number} saved.")
            return redirect("scoring:version_detail", version_id=version.pk)
    return _editor(request, version=None, form=form, formset=formset, status=400)


@role_required(*READERS)
def version_edit(request: HttpRequest, version_id: int) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    if version.state not in services.EDITABLE_STATES:
        messages.info(
            request, f"v{version.number} is {version.get_state_display().lower()}; start a new draft from it to edit."
        )
        return redirect("scoring:version_detail", version_id=version.pk)
    if request.method != "POST":
        form, formset = editor_forms(version=version)
        return _editor(request, version=version, form=form, formset=formset)

    form, formset = editor_forms(data=request.POST)
    valid = form.is_valid() and formset.is_valid()
    if valid and form.cleaned_data["revision"] is None:
        # Without the revision the edit started from, a save could overwrite someone else's unseen.
        form.add_error(None, "This form lost track of which revision you edited; reload the page and edit again.")
        valid = False
    if not valid:
        return _editor(request, version=version, form=form, formset=formset, status=400)
    stored_revision = version.revision
    try:
        saved = services.definition_update(
            version=version,
            rules=formset.rules,
            threshold=form.cleaned_data["threshold"],
            title=form.cleaned_data["title"],
            revision=form.cleaned_data["revision"],
            actor=request.user,
            now=timezone.now(),
        )
    except services.DefinitionConflictError as exc:
        # Keep everything the user typed; point the form at the stored revision so
        # saving again is a deliberate choice made after seeing the other change.
        data = request.POST.copy()
        data["revision"] = str(exc.current.revision)
        form, formset = editor_forms(data=data)
        form.is_valid()
        formset.is_valid()
        return _editor(
            request,
            version=exc.current,
            form=form,
            formset=formset,
            conflict=exc,
            theirs=selectors.rules_grouped(version=exc.current),
            status=409,
        )
    except ApplicationError as exc:
        form_errors_add(form, exc)
        return _editor(request, version=version, form=form, formset=formset, status=400)
    if saved.revision == stored_revision:
        messages.info(request, f"Nothing changed: v{version.number} stays at revision {stored_revision}.")
        return redirect("scoring:version_detail", version_id=version.pk)
    messages.success(request, f"v{version.number} saved.")
    return redirect("scoring:version_detail", version_id=version.pk)


def _post_action(request: HttpRequest, version_id: int, action, success: str) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    try:
        result = action(version)
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("scoring:version_detail", version_id=version.pk)
    messages.success(request, success.format(version=version, result=result))
    target = result if isinstance(result, DefinitionVersion) else version
    return redirect("scoring:version_detail", version_id=target.pk)


@role_required(*READERS)
@require_POST
def version_propose(request: HttpRequest, version_id: int) -> HttpResponse:
    return _post_action(
        request,
        version_id,
        lambda v: services.definition_propose(version=v, actor=request.user, now=timezone.now()),
        "v{version.number} is proposed: it needs approval from Marketing and from Sales.",
    )


@role_required(*SIGNERS)
@require_POST
def version_approve(request: HttpRequest, version_id: int) -> HttpResponse:
    form = ApproveForm(request.POST)
    revision = form.cleaned_data["revision"] if form.is_valid() else None
    if revision is None:
        messages.error(request, "Approve from the version page so we know which revision you approved.")
        return redirect("scoring:version_detail", version_id=version_id)

    version = selectors.version_get(version_id=version_id)
    try:
        services.definition_approve(version=version, actor=request.user, now=timezone.now(), revision=revision)
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("scoring:version_detail", version_id=version.pk)
    version.refresh_from_db()
    if version.state == DefinitionVersion.State.ACTIVE:
        messages.success(request, f"Signed off: v{version.number} is now the active definition. Rescoring the pool.")
    else:
        messages.success(request, f"You approved v{version.number}.")
    return redirect("scoring:version_detail", version_id=version.pk)


@role_required(*READERS)
@require_POST
def version_copy(request: HttpRequest, version_id: int) -> HttpResponse:
    return _post_action(
        request,
        version_id,
        lambda v: services.version_copy_as_draft(version=v, actor=request.user, now=timezone.now()),
        "New draft v{result.number} started from v{version.number}.",
    )


@role_required(*READERS)
@require_POST
def version_comment(request: HttpRequest, version_id: int) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.definition_comment(
                version=version, actor=request.user, body=form.cleaned_data["body"], now=timezone.now()
            )
        except ApplicationError as exc:
            form.add_error("body", exc.message)
        else:
            return redirect(reverse("scoring:version_detail", kwargs={"version_id": version.pk}) + "#thread")
    context = _detail_context(request, version)
    context["comment_form"] = form
    return render(request, "scoring/version_detail.html", context, status=400)


@role_required(*READERS)
def version_diff(request: HttpRequest, version_id: int, other_id: int) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    other = selectors.version_get(version_id=other_id)
    return render(
        request,
        "scoring/diff.html",
        {"version": version, "other": other, "changes": services.definition_diff(other, version)},
    )


@role_required(*READERS)
@require_POST
def version_preview(request: HttpRequest, version_id: int) -> HttpResponse:
    version = selectors.version_get(version_id=version_id)
    try:
        preview = services.preview_request(version=version, actor=request.user, now=timezone.now())
    except ApplicationError as exc:
        if request.htmx:
            return HttpResponse(exc.message, status=400)
        _fail(request, exc)
        return redirect("scoring:version_detail", version_id=version.pk)
    if request.htmx:
        return _preview_partial(request, preview)
    return redirect(reverse("scoring:version_detail", kwargs={"version_id": version.pk}) + "#preview")


def _preview_context(request: HttpRequest, preview: Preview | None) -> dict:
    data = selectors.preview_data_for_user(preview=preview, user=request.user) if preview else None
    if data and preview.state == Preview.State.DONE:
        data["charts"] = preview_charts(data)
        # The argument for the proposal: what sales rejected of the active version's leads, per rule.
        if data.get("active_version"):
            data["active_rejections"] = rejections_for_user(version=data["active_version"], user=request.user)
    return {
        "preview": preview,
        "preview_data": data,
        "preview_shows_leads": selectors.preview_shows_leads(user=request.user),
    }


def _preview_partial(request: HttpRequest, preview: Preview) -> HttpResponse:
    context = {"version": preview.version, **_preview_context(request, preview)}
    return render(request, "scoring/_preview.html", context)


def preview_charts(data: dict) -> dict:
    """Chart.js configurations for a finished preview (drawn by static/js/definition_editor.js)."""
    rows = {row["key"]: row for row in data.get("backtest", {}).get("rows", [])}
    version, active = data.get("version"), data.get("active_version")

    def rates(key: str) -> list:
        return [
            None
            if rows.get(f"{key}-{side}", {}).get("conversion_rate") is None
            else round(100 * rows[f"{key}-{side}"]["conversion_rate"], 1)
            for side in ("above", "below")
        ]

    datasets = [{"label": f"v{version} (proposed)", "data": rates("proposed"), "backgroundColor": "#0d6efd"}]
    if active:
        datasets.append({"label": f"v{active} (active)", "data": rates("active"), "backgroundColor": "#adb5bd"})
    conversion = {
        "type": "bar",
        "data": {"labels": ["Qualifies", "Does not qualify"], "datasets": datasets},
        "options": {
            "plugins": {"title": {"display": True, "text": "Backtest: conversion (won / leads, %)"}},
            "scales": {"y": {"beginAtZero": True, "suggestedMax": 100}},
        },
    }
    dist = data.get("distribution") or {"labels": [], "proposed": [], "active": None}
    dist_sets = [{"label": f"v{version}", "data": dist["proposed"], "backgroundColor": "#0d6efd"}]
    if dist.get("active") is not None:
        dist_sets.append({"label": f"v{active}", "data": dist["active"], "backgroundColor": "#adb5bd"})
    distribution = {
        "type": "bar",
        "data": {"labels": dist["labels"], "datasets": dist_sets},
        "options": {
            "plugins": {"title": {"display": True, "text": f"Pool leads by score (threshold {data.get('threshold')})"}},
            "scales": {"y": {"beginAtZero": True}},
        },
    }
    return {"conversion": conversion, "distribution": distribution}


@role_required(*READERS)
def preview_status(request: HttpRequest, preview_id: int) -> HttpResponse:
    """The preview panel; htmx polls it while the job runs."""
    preview = selectors.preview_get(preview_id=preview_id)
    return _preview_partial(request, preview)
