"""Pages of offline events: the list, an event, register and cancel, the member's tickets, a ticket with
its QR code, and the staff's check-in page at the door."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.posters import qr_png
from courses.events import door_checkin, registrations
from courses.events import selectors as event_selectors
from courses.events.forms import TicketCodeForm
from courses.events.tickets import ticket_scan_url
from courses.models import EventRegistration
from courses.pages import checkout_page_url, login_url, page_price


def event_list(request: HttpRequest) -> HttpResponse:
    # seats_taken is annotated by events_listed(): the stubs cannot see annotations
    events = [(e, max(0, e.capacity - e.seats_taken)) for e in event_selectors.events_listed()]  # type: ignore[attr-defined]
    return render(request, "courses/events.html", {"events": events})


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_selectors.event_get(event_id=event_id)
    access = event_selectors.event_access(request.user, event)
    quote, price_error = None, ""
    if access.must_pay:
        quote, price_error = page_price(
            lambda *, user, item_id: registrations.event_quote(user=user, event_id=item_id),
            request,
            event.pk,
            item_type="event",
        )
    return render(
        request,
        "courses/event.html",
        {
            "event": event,
            "access": access,
            "quote": quote,
            "price_error": price_error,
            "checkout_url": checkout_page_url("event", event.pk),
            "login_url": login_url(request),
            "can_check_in": event_selectors.event_can_check_in(request.user, event),
        },
    )


@login_required
@require_POST
def event_register(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_selectors.event_get(event_id=event_id)
    try:
        registration = registrations.event_register(user=request.user, event=event)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("courses:event", event_id=event.pk)
    if registration.status == EventRegistration.Status.PENDING:
        return redirect(checkout_page_url("event", event.pk))
    if registration.status == EventRegistration.Status.WAITLISTED:
        messages.info(request, _("名额已满，你已进入候补，有空位时会通知你"))
        return redirect("courses:event", event_id=event.pk)
    messages.success(request, _("报名成功"))
    return redirect("courses:ticket", code=registration.ticket_code)


@login_required
@require_POST
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_selectors.event_get(event_id=event_id)
    try:
        registration = registrations.event_cancel(user=request.user, event=event)
        registration.refresh_from_db()
        if registration.status == EventRegistration.Status.CONFIRMED:
            messages.success(request, _("已申请退款，退款完成后报名自动取消"))
        else:
            messages.success(request, _("已取消报名"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:event", event_id=event.pk)


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    """电子票: the member's tickets (to come, then past), and what was cancelled or refunded."""
    return render(
        request, "courses/my_tickets.html", {"tickets": event_selectors.my_ticket_list(user=request.user)}
    )


@login_required
def ticket(request: HttpRequest, code: str) -> HttpResponse:
    registration = event_selectors.ticket_get(user=request.user, code=code)
    return render(request, "courses/ticket.html", {"registration": registration, "event": registration.event})


@login_required
def ticket_qr(request: HttpRequest, code: str) -> HttpResponse:
    registration = event_selectors.ticket_get(user=request.user, code=code)
    if registration.status != EventRegistration.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(qr_png(ticket_scan_url(registration)), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def event_checkin(request: HttpRequest, event_id: int) -> HttpResponse:
    """核销 page for staff: scan (the QR opens this page with ?code=) or type the code, then confirm."""
    event = event_selectors.event_get(event_id=event_id)
    if not event_selectors.event_can_check_in(request.user, event):
        raise Http404
    form = TicketCodeForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        messages.error(request, str(form.errors["code"][0]))
    code = (form.cleaned_data.get("code") or "").upper()
    result = None
    pending = None
    if request.method == "POST" and code:
        try:
            result = door_checkin.event_check_in(event=event, code=code, staff=request.user)
            messages.success(request, _("核销成功：%(who)s") % {"who": result.user.display_name})
            code = ""
        except ApplicationError as exc:
            messages.error(request, exc.message)
    elif code:
        pending = (
            EventRegistration.objects.filter(event=event, ticket_code=code).select_related("user").first()
        )
    return render(
        request,
        "courses/event_checkin.html",
        {
            "event": event,
            "code": code,
            "pending": pending,
            "result": result,
            "attendance": event_selectors.event_attendance(event),
        },
    )
