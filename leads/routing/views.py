"""Managers' pages: team dashboard, routing rules, reassignment, pausing reps.

Managers see and act on their own teams only (another team's rep or rule is a
404); admins on every team. Leads come through leads.selectors, so the nurture
pool never appears here.
"""

import dataclasses
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import MANAGERS, role_required
from accounts.models import Team
from leadhandoff.api import ApplicationError, ConflictError
from leadhandoff.forms import form_errors_add
from leads.clock.selectors import free_to_cold_call_many
from leads.models import OPEN_STATUSES, Lead, Status
from leads.routing import services as routing_services
from leads.routing.forms import ReassignForm, RuleForm
from leads.routing.selectors import (
    RepLoad,
    routing_teams_for,
    rule_get_for_user,
    rules_ordered,
    team_overdue_first_contacts,
    team_rep_loads,
    team_unassigned_queue,
)
from leads.routing.services import conditions_summary
from leads.selectors import leads_visible_to

OWNED_OPEN_STATUSES = [s for s in OPEN_STATUSES if s != Status.QUEUED]
# Rows per list on the dashboard; the counts above each list stay exact.
LIST_LIMIT = 200


@dataclass
class TeamPanel:
    team: Team
    reps: list[RepLoad] = field(default_factory=list)
    unassigned: list[Lead] = field(default_factory=list)
    overdue: list[Lead] = field(default_factory=list)

    @property
    def chart(self) -> dict:
        return {
            "labels": [r.name for r in self.reps],
            "uncontacted": [r.open_uncontacted for r in self.reps],
            "open": [r.open_total for r in self.reps],
            "capacity": [r.capacity for r in self.reps],
        }


def _dashboard(request: HttpRequest, *, form: ReassignForm | None = None, status: int = 200) -> HttpResponse:
    """Everything on the page in a fixed number of queries, whatever the number of teams, reps or leads."""
    user = request.user
    now = timezone.now()
    teams = list(routing_teams_for(user=user))
    team_ids = [t.id for t in teams]
    panels = {t.id: TeamPanel(team=t) for t in teams}
    loads = team_rep_loads(team_ids=team_ids, now=now)
    free = free_to_cold_call_many(rep_teams={load.user_id: load.team_id for load in loads}, now=now)
    for load in loads:
        panels[load.team_id].reps.append(dataclasses.replace(load, free=free.get(load.user_id)))
    for lead in team_unassigned_queue(user=user, team_ids=team_ids)[:LIST_LIMIT]:
        panels[lead.team_id].unassigned.append(lead)
    for lead in team_overdue_first_contacts(user=user, team_ids=team_ids, now=now)[:LIST_LIMIT]:
        panels[lead.team_id].overdue.append(lead)

    # A rep's open leads, when the manager picks the rep (e.g. to hand them over before leave).
    rep_filter = _int(request.GET.get("rep"))
    rep_leads = None
    rep_load = next((r for r in loads if r.user_id == rep_filter), None)
    if rep_load is not None:
        rep_leads = list(
            leads_visible_to(user=user)
            .filter(owner_id=rep_load.user_id, status__in=OWNED_OPEN_STATUSES)
            .select_related("owner", "scorecard")
            .order_by("sla_due_at", "id")[:LIST_LIMIT]
        )

    # Not routed at all (no rule matched and no fallback team): only admins can fix that.
    unrouted = []
    if user.is_admin_role:
        unrouted = list(
            leads_visible_to(user=user)
            .filter(status=Status.QUEUED, team__isnull=True)
            .select_related("scorecard")
            .order_by("id")[:LIST_LIMIT]
        )

    choices = _rep_choices(loads, panels)
    if form is None:
        form = ReassignForm(rep_choices=choices)
    else:  # a refused POST: same data and errors, rep labels with their team
        form.fields["to_rep"].choices = [("", "Choose a rep…"), *choices]
    context = {
        "panels": list(panels.values()),
        "charts": {p.team.id: p.chart for p in panels.values()},
        "form": form,
        "rep_load": rep_load,
        "rep_leads": rep_leads,
        "unrouted": unrouted,
        "free": free,
        "now": now,
    }
    return render(request, "leads/team_dashboard.html", context, status=status)


def _rep_choices(loads: list[RepLoad], panels: dict[int, TeamPanel]) -> list[tuple[int, str]]:
    return [(r.user_id, f"{r.name} ({panels[r.team_id].team.name})") for r in loads if r.active]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@role_required(*MANAGERS)
def team_dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request)


@role_required(*MANAGERS)
@require_POST
def team_reassign(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    team_ids = list(routing_teams_for(user=request.user).values_list("id", flat=True))
    loads = team_rep_loads(team_ids=team_ids, now=now)
    choices = [(r.user_id, r.name) for r in loads if r.active]
    form = ReassignForm(request.POST, rep_choices=choices)
    if not form.is_valid():
        return _dashboard(request, form=form, status=400)
    try:
        moved = routing_services.leads_reassign(
            actor=request.user,
            lead_ids=form.cleaned_data["leads"],
            to_rep_id=form.cleaned_data["to_rep"],
            reason=form.cleaned_data["reason"],
            expected_owners=form.expected_owners(),
            now=now,
        )
    except ApplicationError as error:
        form_errors_add(form, error)
        status = 409 if isinstance(error, ConflictError) else 400
        return _dashboard(request, form=form, status=status)
    rep_name = dict(choices)[form.cleaned_data["to_rep"]]
    messages.success(request, f"Reassigned {len(moved)} lead{'s' if len(moved) != 1 else ''} to {rep_name}.")
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    url = reverse("leads:team_dashboard")
    rep = _int(request.POST.get("rep"))
    return f"{url}?rep={rep}" if rep else url


@role_required(*MANAGERS)
@require_POST
def rep_pause(request: HttpRequest, rep_id: int) -> HttpResponse:
    profile = routing_services.rep_set_paused(actor=request.user, rep_id=rep_id, paused=True)
    messages.success(request, f"{profile.user} is paused: no new leads will be routed to them.")
    return redirect("leads:team_dashboard")


@role_required(*MANAGERS)
@require_POST
def rep_unpause(request: HttpRequest, rep_id: int) -> HttpResponse:
    profile = routing_services.rep_set_paused(actor=request.user, rep_id=rep_id, paused=False)
    messages.success(request, f"{profile.user} receives new leads again.")
    return redirect("leads:team_dashboard")


# --- Routing rules ----------------------------------------------------------------------


@role_required(*MANAGERS)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = [(rule, conditions_summary(rule.conditions or {})) for rule in rules_ordered()]
    own_team_ids = set(routing_teams_for(user=request.user).values_list("id", flat=True))
    fallback = Team.objects.filter(is_fallback=True).first()
    return render(
        request,
        "leads/routing/rule_list.html",
        {"rules": rules, "own_team_ids": own_team_ids, "fallback": fallback},
    )


@role_required(*MANAGERS)
def rule_create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, teams=routing_teams_for(user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            rule = routing_services.rule_create(actor=request.user, **form.rule_values())
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"Rule “{rule.name}” added at the end of the list.")
            return redirect("leads:rule_list")
    return render(request, "leads/routing/rule_form.html", {"form": form, "rule": None})


@role_required(*MANAGERS)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    form = RuleForm(request.POST or None, teams=routing_teams_for(user=request.user), rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            rule = routing_services.rule_update(actor=request.user, rule_id=rule.id, **form.rule_values())
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"Rule “{rule.name}” saved.")
            return redirect("leads:rule_list")
    return render(request, "leads/routing/rule_form.html", {"form": form, "rule": rule})


@role_required(*MANAGERS)
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    if request.method == "POST":
        routing_services.rule_delete(actor=request.user, rule_id=rule.id)
        messages.success(request, f"Rule “{rule.name}” deleted.")
        return redirect("leads:rule_list")
    return render(request, "leads/routing/rule_confirm_delete.html", {"rule": rule})


@role_required(*MANAGERS)
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    try:
        routing_services.rule_move(actor=request.user, rule_id=rule_id, direction=request.POST.get("direction", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("leads:rule_list")


@role_required(*MANAGERS)
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    rule = routing_services.rule_set_enabled(actor=request.user, rule_id=rule.id, enabled=not rule.enabled)
    messages.success(request, f"Rule “{rule.name}” {'enabled' if rule.enabled else 'disabled'}.")
    return redirect("leads:rule_list")
