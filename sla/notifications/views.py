"""Notification pages: the list, the bell's live count, marking read, and preferences.

Every signed-in user (any role) sees only their own notifications.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sla.notifications import services
from sla.notifications.forms import PreferencesForm
from sla.notifications.selectors import notifications_for_user, preferences_for_user, unread_count

PAGE_SIZE = 25


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sla/notifications/list.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread": unread_count(user=request.user),
            # "/leads/" — one reverse() instead of one per row.
            "brief_prefix": reverse("leads:brief", kwargs={"lead_id": 0}).removesuffix("0/brief/"),
        },
    )


def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, polled by htmx from the navigation (base.html).

    Once the session has expired, a poll answers 204 (htmx swaps nothing) rather
    than the login page's redirect, which htmx would follow and paste into the bell.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=204) if request.htmx else redirect_to_login(request.get_full_path())
    return render(request, "sla/notifications/_bell.html", {"unread": unread_count(user=request.user)})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read; with `next` (the lead brief) go there: opening a notification reads it."""
    services.notification_mark_read(user=request.user, notification_id=notification_id, now=timezone.now())
    return _back(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user, now=timezone.now())
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, initial=preferences_for_user(user=request.user))
    if request.method == "POST" and form.is_valid():
        services.preferences_set(user=request.user, channels=form.cleaned_data)
        messages.success(request, "Your notification preferences are saved.")
        return redirect("notifications:preferences")
    return render(request, "sla/notifications/preferences.html", {"form": form})
