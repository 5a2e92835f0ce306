"""Marketing's pages over the nurture pool."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import MARKETING_SIDE, role_required

from ..selectors import nurture_pool


@role_required(*MARKETING_SIDE)
def pool(request: HttpRequest) -> HttpResponse:
    leads = nurture_pool(user=request.user)[:50]
    return render(request, "leads/pool.html", {"leads": leads})
