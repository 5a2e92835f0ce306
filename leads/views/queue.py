"""The sales side: a rep's queue and a manager's team dashboard."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.models import Role

from ..selectors import leads_visible_to


@role_required(Role.REP)
def my_queue(request: HttpRequest) -> HttpResponse:
    leads = leads_visible_to(user=request.user).order_by("sla_due_at")[:100]
    return render(request, "leads/my_queue.html", {"leads": leads})
