"""The sales queue pages: a rep's queue, the lead brief and its actions, rep-sourced
prospects, and marketing's list of rejections."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import MARKETING_SIDE, role_required
from accounts.models import Role
from leadhandoff.api import ApplicationError, ConflictError
from leadhandoff.forms import form_errors_add
from leadhandoff.paging import page_with_count
from leads.clock.selectors import clock_statuses, free_to_cold_call, lead_sla_timeline
from leads.models import RejectReason, Status, TouchOutcome
from leads.queue import services as queue_services
from leads.queue.forms import (
    QueueFilterForm,
    RejectForm,
    RejectionFilterForm,
    RepSourcedForm,
    StageForm,
    TouchForm,
)
from leads.queue.selectors import (
    QueueFilters,
    QueueRow,
    RejectionFilters,
    brief_lead_get,
    my_queue_summary,
    queue_page_rows,
    rejection_counts,
    rejection_versions,
    rejections,
)
from leads.queue.selectors import brief as brief_select
from leads.queue.selectors import my_queue as my_queue_select
from leads.scores import score_change_reasons

QUEUE_PAGE_SIZE = 25
REJECTIONS_PAGE_SIZE = 25
# Who may read a brief: the owning rep, their team's manager, admins (marketing has its own lead page).
BRIEF_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


@role_required(Role.REP)
def my_queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else QueueFilters()
    now, tz = timezone.now(), request.user.tz
    leads = my_queue_select(user=request.user, filters=filters, now=now, tz=tz)
    page = page_with_count(queue_page_rows(leads), request.GET.get("page"), QUEUE_PAGE_SIZE)
    page.object_list = [QueueRow(**values) for values in page.object_list]
    clocks = clock_statuses(lead_ids=[lead.pk for lead in page.object_list], now=now, tz=tz)
    for lead in page.object_list:
        lead.clock = clocks.get(lead.pk)
    summary = my_queue_summary(user=request.user, now=now, tz=tz)
    return render(
        request,
        "leads/my_queue.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "leads": page.object_list,
            "summary": summary,
            "sources": summary.sources,
            # "/leads/" — one reverse() instead of one per row (the page is rendered on every visit).
            "brief_prefix": reverse("leads:brief", kwargs={"lead_id": 0}).removesuffix("0/brief/"),
            "now": now,
            "free": free_to_cold_call(rep=request.user, now=now),
        },
    )


def _render_brief(request: HttpRequest, lead, *, status: int = 200, **forms) -> HttpResponse:
    data = brief_select(lead=lead, tz=request.user.tz)
    can_work = lead.owner_id == request.user.pk and lead.status in queue_services.WORKABLE_STATUSES
    now = timezone.now()
    clocks = data.clocks
    context = {
        "brief": data,
        "lead": lead,
        # The lead's clocks read once, for its time left and its timeline.
        "clock": clock_statuses(lead_ids=[lead.pk], now=now, tz=request.user.tz, clocks=clocks).get(lead.pk),
        "sla_timeline": lead_sla_timeline(lead=lead, now=now, clocks=clocks),
        "can_work": can_work,
        "can_reject": can_work and lead.origin == "marketing",
        "touch_form": forms.get("touch_form") or TouchForm(),
        "stage_form": forms.get("stage_form") or StageForm(lead=lead),
        "reject_form": forms.get("reject_form") or RejectForm(),
        "now": now,
        # One score, labelled: the one at promotion beside today's, and why they differ.
        "score_reasons": score_change_reasons(at_promotion=lead.promotion_explanation, current=lead.score_explanation),
        "currency": settings.CURRENCY,
    }
    return render(request, "leads/brief.html", context, status=status)


@role_required(*BRIEF_ROLES)
def brief(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _render_brief(request, brief_lead_get(user=request.user, lead_id=lead_id, with_score=True))


def _not_in_queue(request: HttpRequest, error: ApplicationError) -> Http404:
    messages.error(request, error.message)
    return Http404(error.message)


def _rerender_brief(request: HttpRequest, lead_id: int, **forms) -> HttpResponse:
    """The brief again with a form's errors, or a 404 that says the lead left the caller's queue."""
    try:
        lead = brief_lead_get(user=request.user, lead_id=lead_id, with_score=True)
    except Http404:
        raise _not_in_queue(request, queue_services.NotInQueueError()) from None
    if "stage_form" in forms:
        fresh = StageForm(lead=lead)
        forms["stage_form"].fields["status"].choices = fresh.fields["status"].choices
        forms["stage_form"].awaiting_first_contact = fresh.awaiting_first_contact
    return _render_brief(request, lead, status=400, **forms)


@role_required(Role.REP)
@require_POST
def touch_log(request: HttpRequest, lead_id: int) -> HttpResponse:
    form = TouchForm(request.POST)
    if form.is_valid():
        try:
            touch = queue_services.touch_log(
                user=request.user,
                lead_id=lead_id,
                kind=form.cleaned_data["kind"],
                outcome=form.cleaned_data["outcome"] or TouchOutcome.NONE,
                notes=form.cleaned_data["notes"],
                consent_override=form.cleaned_data["consent_override"],
                override_reason=form.cleaned_data["override_reason"],
                now=timezone.now(),
            )
        except queue_services.NotInQueueError as error:
            raise _not_in_queue(request, error) from None
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"{touch.get_kind_display()} logged ({touch.get_outcome_display().lower()}).")
            return redirect("leads:brief", lead_id=lead_id)
    return _rerender_brief(request, lead_id, touch_form=form)


@role_required(Role.REP)
@require_POST
def stage_change(request: HttpRequest, lead_id: int) -> HttpResponse:
    form = StageForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lead = queue_services.lead_stage_change(
                user=request.user,
                lead_id=lead_id,
                to_status=data["status"],
                value=data["value"],
                reason=data["reason"],
                note=data["note"],
                expected_status=data["expected_status"] or None,
                now=timezone.now(),
            )
        except queue_services.NotInQueueError as error:
            raise _not_in_queue(request, error) from None
        except ConflictError as error:
            messages.warning(request, error.message)
            return redirect("leads:brief", lead_id=lead_id)
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"Moved to {lead.get_status_display().lower()}.")
            return redirect("leads:brief", lead_id=lead_id)
    return _rerender_brief(request, lead_id, stage_form=form)


@role_required(Role.REP)
@require_POST
def reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            lead = queue_services.lead_reject(
                user=request.user,
                lead_id=lead_id,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                now=timezone.now(),
            )
        except queue_services.NotInQueueError as error:
            raise _not_in_queue(request, error) from None
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(
                request, f"{lead} went back to marketing ({RejectReason(lead.reject_reason).label.lower()})."
            )
            return redirect("leads:my_queue")
    return _rerender_brief(request, lead_id, reject_form=form)


@role_required(Role.REP)
def rep_sourced_create(request: HttpRequest) -> HttpResponse:
    form = RepSourcedForm(request.POST or None)
    own_lead_id = None
    if request.method == "POST" and form.is_valid():
        try:
            lead = queue_services.rep_sourced_create(user=request.user, now=timezone.now(), **form.cleaned_data)
        except queue_services.AlreadyKnownError as error:
            form_errors_add(form, error)
            own_lead_id = error.own_lead_id
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            if lead.created_while_not_free:
                messages.warning(
                    request,
                    f"{lead} is in your queue, flagged as added while you were not free to cold-call: "
                    "the comparison reports count it.",
                )
            else:
                messages.success(request, f"{lead} is in your queue.")
            return redirect("leads:brief", lead_id=lead.pk)
    status = 400 if request.method == "POST" else 200
    free = free_to_cold_call(rep=request.user, now=timezone.now())
    context = {"form": form, "free": free, "own_lead_id": own_lead_id}
    return render(request, "leads/rep_sourced_form.html", context, status=status)


@role_required(*MARKETING_SIDE)
def rejection_list(request: HttpRequest) -> HttpResponse:
    form = RejectionFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else RejectionFilters()
    page = Paginator(rejections(user=request.user, filters=filters), REJECTIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = rejection_counts(user=request.user, version=filters.version)
    top = max((row["n"] for row in counts), default=0)
    for row in counts:
        row["label"] = RejectReason(row["reject_reason"]).label if row["reject_reason"] else "—"
        row["percent"] = round(100 * row["n"] / top) if top else 0
    return render(
        request,
        "leads/rejections.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "leads": page.object_list,
            "counts": counts,
            "total": sum(row["n"] for row in counts),
            "versions": rejection_versions(user=request.user),
            "statuses": Status,
        },
    )
