"""The offline events' REST API: list, detail, register, cancel, the member's tickets, check-in at
the door and attendance for staff."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError
from core.posters import qr_png
from courses.api_shared import PersonSerializer, QuoteSerializer, checkout_url, cover_url, quote_payload
from courses.events import door_checkin, registrations
from courses.events import selectors as event_selectors
from courses.events.tickets import ticket_scan_url
from courses.models import EventRegistration

TAG_EVENTS = ["events"]


def _event_quote(*, user, item_id):
    return registrations.event_quote(user=user, event_id=item_id)


class RegistrationSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EventRegistrationOutput"

    event_id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending / confirmed / waitlisted / cancelled / refunded")
    # The payload's "source" key; it shadows Field.source, a string only in the stubs' eyes.
    source = serializers.CharField()  # type: ignore[assignment]
    ticket_code = serializers.CharField(allow_null=True)
    ticket_qr_url = serializers.CharField(
        allow_null=True, help_text="the web page's QR image (session login)"
    )
    ticket_qr_api_url = serializers.CharField(
        allow_null=True, help_text="the same QR image for API clients (Bearer token): events_ticket_qr"
    )
    hold_expires_at = serializers.DateTimeField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True)
    order_no = serializers.CharField(allow_null=True)
    checkout_url = serializers.CharField(allow_null=True, help_text="pay here while the seat is held")


def _registration_payload(registration) -> dict | None:
    if registration is None:
        return None
    code = registration.ticket_code if registration.status == "confirmed" else None
    return {
        "event_id": registration.event_id,
        "status": registration.status,
        "source": registration.source,
        "ticket_code": code,
        "ticket_qr_url": reverse("courses:ticket_qr", args=[code]) if code else None,
        "ticket_qr_api_url": reverse("events-api-ticket-qr", args=[code]) if code else None,
        "hold_expires_at": registration.hold_expires_at if registration.status == "pending" else None,
        "checked_in_at": registration.checked_in_at,
        "order_no": registration.order_no,
        "checkout_url": checkout_url("event", registration.event_id)
        if registration.status == "pending"
        else None,
    }


class EventRowSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EventRow"

    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    cover_url = serializers.CharField()
    city = serializers.CharField()
    venue = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    seats_left = serializers.IntegerField()
    price_fen = serializers.IntegerField()
    included_in_tiers = serializers.ListField(child=serializers.CharField())


def _event_row(event, seats_left: int) -> dict:
    return {
        "id": event.pk,
        "title": event.title,
        "summary": event.summary,
        "cover_url": cover_url(event),
        "city": event.city,
        "venue": event.venue,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "capacity": event.capacity,
        "seats_left": seats_left,
        "price_fen": event.price_fen,
        "included_in_tiers": [t.code for t in event.included_in_tiers.all()],
    }


class EventListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAG_EVENTS,
        summary="Upcoming offline events",
        operation_id="events_list",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT)],
        responses={200: paginated(EventRowSerializer, name="EventList"), **error_responses(404)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(event_selectors.events_listed(), request, view=self)
        rows = [_event_row(e, max(0, e.capacity - e.seats_taken)) for e in page]
        return paginator.get_paginated_response(EventRowSerializer(rows, many=True).data)


class EventAccessSerializer(serializers.Serializer):
    state = serializers.CharField(
        help_text="login / registered / pending_payment / waitlisted / ended / closed / free_for_member / "
        "free / buy / tier_required / quota_used / membership_expired"
    )
    message = serializers.CharField()
    full = serializers.BooleanField(help_text="registering now joins the waitlist")
    quota_limit = serializers.IntegerField(
        allow_null=True, help_text="tier-included events per membership year"
    )
    quota_used = serializers.IntegerField()


def _event_access_payload(access) -> dict:
    return {
        "state": access.state,
        "message": access.state_text,
        "full": access.full,
        "quota_limit": access.quota_limit,
        "quota_used": access.quota_used,
    }


class EventDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(EventRowSerializer):
        class Meta:
            ref_name = "EventDetailOutput"

        description = serializers.CharField()
        address = serializers.CharField()
        access = EventAccessSerializer()
        registration = RegistrationSerializer(allow_null=True)
        price = QuoteSerializer
        price_unavailable = serializers.CharField(allow_blank=True)

    @extend_schema(
        tags=TAG_EVENTS,
        summary="Event page: what this user can do (register free, pay, waitlist) and their ticket",
        operation_id="events_detail",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request, event_id: int):
        event = event_selectors.event_get(event_id=event_id)
        access = event_selectors.event_access(request.user, event)
        price, unavailable = None, ""
        if access.must_pay:
            price, unavailable = quote_payload(
                _event_quote, user=request.user, item_type="event", item_id=event.pk
            )
        data = {
            **_event_row(event, access.seats_left),
            "description": event.description,
            "address": event.address,
            "access": _event_access_payload(access),
            "registration": _registration_payload(access.registration),
            "price": price,
            "price_unavailable": unavailable,
        }
        return Response(self.OutputSerializer(data).data)


class EventRegisterApi(APIView):
    @extend_schema(
        tags=TAG_EVENTS,
        summary="Register: ticket (tier-included / free), seat held for payment, or waitlist",
        operation_id="events_register",
        request=None,
        responses={201: RegistrationSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, event_id: int):
        event = event_selectors.event_get(event_id=event_id)
        registration = registrations.event_register(user=request.user, event=event)
        return Response(RegistrationSerializer(_registration_payload(registration)).data, status=201)


class EventCancelApi(APIView):
    @extend_schema(
        tags=TAG_EVENTS,
        summary="Cancel my registration (a paid ticket is refunded inside the refund window)",
        operation_id="events_cancel",
        request=None,
        responses={200: RegistrationSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request, event_id: int):
        event = event_selectors.event_get(event_id=event_id)
        registration = registrations.event_cancel(user=request.user, event=event)
        registration.refresh_from_db()
        return Response(RegistrationSerializer(_registration_payload(registration)).data)


class MyTicketsApi(APIView):
    class OutputSerializer(RegistrationSerializer):
        class Meta:
            ref_name = "MyTicketOutput"

        event = EventRowSerializer()
        state = serializers.CharField(
            help_text="valid (show it at the door) / checked_in / membership_ended (a tier-included ticket "
            "whose tier has ended) / ended / pending_payment / waitlisted / cancelled / refunded / invalid"
        )
        state_text = serializers.CharField()

    @extend_schema(
        tags=TAG_EVENTS,
        summary="My tickets, held seats and waitlist places",
        description="Events to come first (soonest first), then events that are over (latest first); "
        "with `with_cancelled=true`, cancelled and refunded registrations last. Only `state: valid` "
        "gets the member in.",
        operation_id="events_my_tickets",
        parameters=[
            OpenApiParameter(
                "with_cancelled", OpenApiTypes.BOOL, description="also cancelled and refunded registrations"
            )
        ],
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        tickets = event_selectors.my_ticket_list(user=request.user)
        with_cancelled = request.query_params.get("with_cancelled", "").lower() in ("1", "true", "yes")
        rows = [
            {
                **_registration_payload(row.registration),
                "event": _event_row(row.event, 0),
                "state": row.state,
                "state_text": row.state_text,
            }
            for row in tickets.upcoming + tickets.past + (tickets.ended if with_cancelled else [])
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


class TicketQrApi(APIView):
    @extend_schema(
        tags=TAG_EVENTS,
        summary="My ticket's QR code (PNG): staff scan it to check me in",
        description="404 unless the ticket is mine and confirmed (a cancelled or refunded one has no QR).",
        operation_id="events_ticket_qr",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 404),
        },
    )
    def get(self, request, code: str):
        try:
            registration = event_selectors.ticket_get(user=request.user, code=code)
        except Http404:
            raise ApplicationError("not_found", _("电子票不存在"), status_code=404) from None
        if registration.status != EventRegistration.Status.CONFIRMED:
            raise ApplicationError("ticket_not_valid", _("该电子票已失效"), status_code=404)
        response = HttpResponse(qr_png(ticket_scan_url(registration)), content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response


class EventCheckInApi(APIView):
    """核销: staff scan or type a ticket code; a ticket is accepted exactly once."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EventCheckInInput"

        code = serializers.CharField(max_length=200, help_text="ticket code, or the scanned ticket URL")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EventCheckInOutput"

        ticket_code = serializers.CharField()
        member = PersonSerializer()
        checked_in_at = serializers.DateTimeField()

    @extend_schema(
        tags=TAG_EVENTS,
        summary="Check a ticket in (核销) — organiser, event staff or operators",
        operation_id="events_check_in",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, event_id: int):
        event = event_selectors.event_get(event_id=event_id)
        if not event_selectors.event_can_check_in(request.user, event):  # before validation: reveal nothing
            raise ApplicationError("permission_denied", _("你不是该活动的核销人员"), status_code=403)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = door_checkin.event_check_in(
            event=event, code=data.validated_data["code"], staff=request.user
        )
        return Response(
            self.OutputSerializer(
                {
                    "ticket_code": registration.ticket_code,
                    "member": registration.user,
                    "checked_in_at": registration.checked_in_at,
                }
            ).data
        )


class EventAttendanceApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EventAttendanceOutput"

        capacity = serializers.IntegerField()
        confirmed = serializers.IntegerField()
        checked_in = serializers.IntegerField()
        waitlisted = serializers.IntegerField()
        pending = serializers.IntegerField()

    @extend_schema(
        tags=TAG_EVENTS,
        summary="Attendance counts — check-in staff only",
        operation_id="events_attendance",
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, event_id: int):
        event = event_selectors.event_get(event_id=event_id)
        if not event_selectors.event_can_check_in(request.user, event):
            raise ApplicationError("not_found", _("活动不存在"), status_code=404)
        return Response(self.OutputSerializer(event_selectors.event_attendance(event)).data)
