"""Policy pages: the default policy (admins), each team's policy and closed dates
(its manager and admins), and a manager's page for a rep's working hours.

Another team is a 404 for a manager (sla.policies.selectors); reps and marketing
get a 403 by role.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import MANAGERS, role_required
from accounts.models import FirstContactPolicy, Role
from accounts.selectors import policy_default
from accounts.views import schedule_page
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add
from sla.policies import selectors, services
from sla.policies.forms import ClosedDateForm, PolicyForm

APPLIES = "It applies to clocks started from now on."


def policy_summary(policy: FirstContactPolicy) -> list[tuple[str, str]]:
    """The policy in a few lines of users' words (the list and a team using the default show it)."""
    countries = dict(services.holiday_country_choices())
    holidays = countries.get(policy.country, policy.country) if policy.country else "none"
    if policy.country and policy.subdivision:
        holidays += f", region {policy.subdivision}"
    warnings = ", ".join(f"{p}%" for p in policy.warn_at_percent or []) or "none"
    breach = "tell the rep and their manager"
    if policy.reassign_on_breach:
        breach += f"; reassign to the next eligible rep, at most {policy.max_reassignments} times"
    escalate = f"after {_hours_text(policy.escalate_after_minutes)} more" if policy.escalate_after_minutes else "never"
    return [
        ("Window", _hours_text(policy.window_minutes)),
        ("Counted", "around the clock" if not policy.is_business_time else "during the rep's working hours"),
        ("Public holidays", holidays if policy.is_business_time else "count too (around the clock)"),
        ("Stops at", policy.get_stop_on_display().lower()),
        ("Warnings", warnings),
        ("On breach", breach),
        ("Escalation", escalate),
        ("Free to cold-call", f"{policy.free_min_compliance}% compliance over {policy.free_days} days"),
    ]


def _hours_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts) or "0 minutes"


@role_required(*MANAGERS)
def policy_list(request: HttpRequest) -> HttpResponse:
    default, teams = selectors.team_policies_for_user(user=request.user)
    context = {
        "default": default,
        "default_summary": policy_summary(default),
        "may_edit_default": selectors.policy_may_edit_default(user=request.user),
        "teams": teams,
    }
    return render(request, "sla/policies/policy_list.html", context)


@role_required(Role.ADMIN)
def policy_default_edit(request: HttpRequest) -> HttpResponse:
    default = policy_default()
    form = PolicyForm(request.POST or None, policy=default, submit="Save the default policy")
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(actor=request.user, team=None, values=form.policy_values())
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"Default policy saved. {APPLIES}")
            return redirect("policies:default")
    context = {"form": form, "policy": default, "saved": default.pk is not None}
    return render(request, "sla/policies/default_form.html", context, status=400 if form.errors else 200)


@role_required(*MANAGERS)
def team_policy(request: HttpRequest, team_id: int) -> HttpResponse:
    current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
    form = None
    if current.own or request.method == "POST":
        form = PolicyForm(request.POST or None, policy=current.policy, submit=f"Save the policy of {current.team}")
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(actor=request.user, team=current.team, values=form.policy_values())
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"Policy of {current.team} saved. {APPLIES}")
            return redirect("policies:team", team_id=current.team.id)
    return _team_page(request, current, form=form)


def _team_page(request, current, *, form=None, closed_form=None, status=None) -> HttpResponse:
    context = {
        "current": current,
        "team": current.team,
        "form": form,
        "summary": policy_summary(current.policy),
        "closed_dates": selectors.closed_dates_of_team(team=current.team),
        "closed_form": closed_form or ClosedDateForm(),
        "reps": selectors.reps_of_teams(teams=[current.team])[current.team.id],
    }
    errors = (form is not None and form.errors) or (closed_form is not None and closed_form.errors)
    return render(request, "sla/policies/team_policy.html", context, status=status or (400 if errors else 200))


@role_required(*MANAGERS)
@require_POST
def team_policy_own(request: HttpRequest, team_id: int) -> HttpResponse:
    current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
    services.team_policy_create(actor=request.user, team=current.team)
    messages.success(request, f"{current.team} has its own policy now, a copy of the default: change it below.")
    return redirect("policies:team", team_id=current.team.id)


@role_required(*MANAGERS)
@require_POST
def team_policy_remove(request: HttpRequest, team_id: int) -> HttpResponse:
    current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
    services.team_policy_remove(actor=request.user, team=current.team)
    messages.success(request, f"{current.team} uses the default policy again. {APPLIES}")
    return redirect("policies:team", team_id=current.team.id)


@role_required(*MANAGERS)
@require_POST
def closed_date_add(request: HttpRequest, team_id: int) -> HttpResponse:
    current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
    form = ClosedDateForm(request.POST)
    if form.is_valid():
        try:
            closed = services.closed_date_add(actor=request.user, team=current.team, **form.cleaned_data)
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, f"{closed.date:%d %B %Y} is a closed date of {current.team}. {APPLIES}")
            return redirect(reverse("policies:team", kwargs={"team_id": current.team.id}) + "#closed-dates")
    form_policy = PolicyForm(policy=current.policy) if current.own else None
    return _team_page(request, current, form=form_policy, closed_form=form)


@role_required(*MANAGERS)
@require_POST
def closed_date_remove(request: HttpRequest, team_id: int, closed_date_id: int) -> HttpResponse:
    current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
    closed = selectors.closed_date_get(team=current.team, closed_date_id=closed_date_id)
    services.closed_date_remove(actor=request.user, team=current.team, closed_date_id=closed.id)
    messages.success(request, f"{closed.date:%d %B %Y} is a working day again for {current.team}. {APPLIES}")
    return redirect(reverse("policies:team", kwargs={"team_id": current.team.id}) + "#closed-dates")


@role_required(*MANAGERS)
def rep_schedule(request: HttpRequest, rep_id: int) -> HttpResponse:
    """A manager changes their team's rep's time zone and working hours."""
    profile = selectors.rep_profile_get_for_user(user=request.user, rep_id=rep_id)
    back = reverse("policies:team", kwargs={"team_id": profile.team_id})
    return schedule_page(request, subject=profile.user, profile=profile, back_url=back, own=False)
