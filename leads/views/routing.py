"""Managers' pages: team dashboard, routing rules, reassignment."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import MANAGERS, role_required


@role_required(*MANAGERS)
def team_dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/team_dashboard.html", {})
