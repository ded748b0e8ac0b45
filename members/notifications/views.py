"""Notification pages: the list, opening one (marks it read) and marking all read (thin: selectors in,
services for writes, template out)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.http import local_path
from members.notifications import selectors, services


@login_required
def notifications(request):
    page = Paginator(selectors.notifications_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "members/notifications.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread_count": selectors.unread_notifications_count(request.user),
        },
    )


@login_required
@require_POST
def notification_open(request, notification_id: int):
    """Mark read, then follow the notification's link (same-site links only)."""
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    except ApplicationError as exc:
        if exc.status_code == 404:  # someone else's notification: as if it did not exist
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("members:notifications")
    target = local_path(request, notification.url)
    return HttpResponseRedirect(target) if target else redirect("members:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    marked = services.notifications_mark_all_read(user=request.user)
    if marked:
        messages.success(request, _("已全部标为已读"))
    return redirect("members:notifications")
