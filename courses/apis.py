"""/api/v1/ courses, lessons, events and camps — one APIView per operation.

API.md rows 7–8 are fixed: `GET /courses/` (id, title, price_fen, included_in_tiers), `GET /courses/{id}/`
(adds lessons [{id, title, locked}]) and `GET /lessons/{id}/` (403 not_entitled without the right).
Access always comes from `courses.selectors` (the same answers the pages use).
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError, NotEntitled
from core.parsers import CleanFormParser, CleanMultiPartParser, LimitedJSONParser
from courses import selectors, services
from courses.models import CampTask, CheckIn

TAG_COURSES = ["courses"]
TAG_EVENTS = ["events"]
TAG_CAMPS = ["camps"]


def _checkout_url(item_type: str, item_id) -> str:
    from payments.orders.checkout import web_checkout_url

    return web_checkout_url(item_type=item_type, item_id=str(item_id))


def _quote_payload(quote_fn, *, user, item_type: str, item_id) -> tuple[dict | None, str]:
    """The price this user would pay now (with the tier discount line), or why it cannot be bought."""
    if not getattr(user, "is_authenticated", False):
        return None, "login"
    try:
        quote = quote_fn(user=user, item_id=item_id)
    except ApplicationError as exc:
        return None, exc.code
    return {
        "list_price_fen": quote.list_price_fen,
        "amount_fen": quote.amount_fen,
        "lines": [{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines],
        "checkout_url": _checkout_url(item_type, item_id),
    }, ""


def _event_quote(*, user, item_id):
    return services.event_quote(user=user, event_id=item_id)


def _camp_quote(*, user, item_id):
    return services.camp_quote(user=user, term_id=item_id)


class PersonSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CoursesPerson"

    id = serializers.IntegerField()
    nickname = serializers.CharField(source="display_name")
    avatar_url = serializers.CharField()


QuoteSerializer = inline_serializer(
    name="CoursesQuote",
    fields={
        "list_price_fen": serializers.IntegerField(),
        "amount_fen": serializers.IntegerField(),
        "lines": serializers.ListField(child=serializers.DictField()),
        "checkout_url": serializers.CharField(),
    },
    allow_null=True,
)


def _cover(obj) -> str:
    return obj.cover.url if obj.cover else ""


def _course_head(course) -> dict:
    """The fields the catalog row and the course page both show, for their serializers."""
    return {
        "id": course.pk,
        "title": course.title,
        "price_fen": course.price_fen,
        "included_in_tiers": [t.code for t in course.included_in_tiers.all()],
        "summary": course.summary,
        "cover_url": _cover(course),
        "teacher": course.teacher,
    }


# ---- courses -------------------------------------------------------------------------------------------------


class CourseListApi(APIView):
    """The catalog: a fixed number of queries whatever the page holds."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CourseListOutput"

        id = serializers.IntegerField()
        title = serializers.CharField()
        price_fen = serializers.IntegerField()
        included_in_tiers = serializers.ListField(child=serializers.CharField(), help_text="tier codes")
        summary = serializers.CharField()
        cover_url = serializers.CharField()
        teacher = PersonSerializer()
        lesson_count = serializers.IntegerField()
        preview_count = serializers.IntegerField()
        unlocked = serializers.BooleanField(help_text="the whole course is open to this user")

    @extend_schema(
        tags=TAG_COURSES,
        summary="Course catalog",
        operation_id="courses_list",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: paginated(OutputSerializer, name="CourseList"), **error_responses(404)},
    )
    def get(self, request):
        paginator = Pagination()
        # the page, the count and this member's entitlements: one cache round trip
        rows = selectors.CatalogRows(
            shape="api-list", row=self.cached_row, page=self._slice(paginator, request), user=request.user
        )
        page = paginator.paginate_queryset(rows, request, view=self)
        unlocked = selectors.unlocked_among(
            user=request.user,
            entries=[(row["id"], row["_teacher_id"], set(row["_tier_ids"])) for row in page],
            facts=rows.facts,
        )
        return paginator.get_paginated_response(
            [{**row["public"], "unlocked": row["id"] in unlocked} for row in page]
        )

    @staticmethod
    def _slice(paginator, request) -> tuple[int, int] | None:
        """The rows the paginator will ask for (None when the page parameter is not a plain number:
        the paginator then answers as usual)."""
        try:
            number = int(request.query_params.get(paginator.page_query_param, 1))
        except (TypeError, ValueError):
            return None
        size = paginator.get_page_size(request)
        return ((number - 1) * size, number * size) if number >= 1 and size else None

    @classmethod
    def cached_row(cls, course) -> dict:
        """What every reader sees of a course, serialized once per catalog version (courses/cache.py)."""
        public = cls.OutputSerializer(
            {
                **_course_head(course),
                "lesson_count": course.lesson_count,
                "preview_count": course.preview_count,
                "unlocked": False,
            }
        ).data
        del public["unlocked"]
        return {
            "id": course.pk,
            "_teacher_id": course.teacher_id,
            "_tier_ids": sorted(t.pk for t in course.included_in_tiers.all()),
            "public": dict(public),
        }


class LessonRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    locked = serializers.BooleanField()
    position = serializers.IntegerField()
    kind = serializers.CharField()
    is_preview = serializers.BooleanField()
    duration_seconds = serializers.IntegerField()
    position_seconds = serializers.IntegerField(help_text="where this user stopped")
    completed = serializers.BooleanField()


class CourseAccessSerializer(serializers.Serializer):
    unlocked = serializers.BooleanField()
    via = serializers.CharField(help_text="staff / tier / purchase / points / grant")
    reason = serializers.CharField(help_text="login / buy / tier_required / membership_expired / unavailable")
    message = serializers.CharField()


class CourseDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CourseDetailOutput"

        id = serializers.IntegerField()
        title = serializers.CharField()
        price_fen = serializers.IntegerField()
        included_in_tiers = serializers.ListField(child=serializers.CharField())
        summary = serializers.CharField()
        description = serializers.CharField()
        cover_url = serializers.CharField()
        teacher = PersonSerializer()
        access = CourseAccessSerializer()
        price = QuoteSerializer
        price_unavailable = serializers.CharField(allow_blank=True)
        completion_percent = serializers.IntegerField()
        lessons = LessonRowSerializer(many=True)

    @extend_schema(
        tags=TAG_COURSES,
        summary="Course page: lessons with locks, this user's progress and price",
        operation_id="courses_detail",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request, course_id: int):
        # course, lessons, their serialized public part and this member's entitlements: one cache read
        course, lessons, public, facts = selectors.course_page(
            course_id=course_id, shape="api", extra=self.public, user=request.user
        )
        access = selectors.course_access(request.user, course, facts=facts)
        progress = selectors.progress_by_lesson(user=request.user, course=course)
        price, unavailable = None, ""
        if not access.unlocked:
            price, unavailable = _quote_payload(
                lambda *, user, item_id: services.course_price(user=user, course=course, access=access),
                user=request.user,
                item_type="course",
                item_id=course.pk,
            )
        data = {
            **public["course"],
            "access": dict(
                CourseAccessSerializer(
                    {
                        "unlocked": access.unlocked,
                        "via": access.via,
                        "reason": access.reason,
                        "message": access.reason_text,
                    }
                ).data
            ),
            "price": QuoteSerializer.to_representation(price) if price is not None else None,
            "price_unavailable": unavailable,
            "completion_percent": selectors.completion_percent(lessons=lessons, progress=progress),
            "lessons": [
                {
                    "id": row["id"],
                    "title": row["title"],
                    "locked": access.lesson_locked(lesson),
                    "position": row["position"],
                    "kind": row["kind"],
                    "is_preview": row["is_preview"],
                    "duration_seconds": row["duration_seconds"],
                    "position_seconds": int(progress[lesson.pk].position_seconds)
                    if lesson.pk in progress
                    else 0,
                    "completed": bool(lesson.pk in progress and progress[lesson.pk].completed),
                }
                for lesson, row in zip(lessons, public["lessons"], strict=True)
            ],
        }
        return Response(data)

    @classmethod
    def public(cls, course, lessons) -> dict:
        """The parts every reader sees, serialized once per catalog version (cached with the course)."""
        full = cls.OutputSerializer(
            {
                **_course_head(course),
                "description": course.description,
                "access": {"unlocked": False, "via": "", "reason": "", "message": ""},
                "price": None,
                "price_unavailable": "",
                "completion_percent": 0,
                "lessons": [
                    {
                        "id": lesson.pk,
                        "title": lesson.title,
                        "locked": False,
                        "position": lesson.position,
                        "kind": lesson.kind,
                        "is_preview": lesson.is_preview,
                        "duration_seconds": lesson.duration_seconds,
                        "position_seconds": 0,
                        "completed": False,
                    }
                    for lesson in lessons
                ],
            }
        ).data
        head = {k: v for k, v in full.items() if k in cls.PUBLIC_FIELDS}
        return {"course": head, "lessons": [dict(row) for row in full["lessons"]]}

    PUBLIC_FIELDS = (
        "id",
        "title",
        "price_fen",
        "included_in_tiers",
        "summary",
        "description",
        "cover_url",
        "teacher",
    )


class LessonDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LessonDetailOutput"

        id = serializers.IntegerField()
        course_id = serializers.IntegerField()
        title = serializers.CharField()
        kind = serializers.CharField()
        body = serializers.CharField()
        media_url = serializers.CharField()
        duration_seconds = serializers.IntegerField()
        is_preview = serializers.BooleanField()
        via = serializers.CharField(help_text="preview / staff / tier / purchase / points / grant")
        position_seconds = serializers.IntegerField()
        completed = serializers.BooleanField()
        previous_id = serializers.IntegerField(allow_null=True)
        next_id = serializers.IntegerField(allow_null=True)

    @extend_schema(
        tags=TAG_COURSES,
        summary="Lesson content (403 not_entitled without the right to it)",
        operation_id="lessons_detail",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, lesson_id: int):
        lesson = selectors.lesson_get(lesson_id=lesson_id)
        access = selectors.lesson_access(request.user, lesson)
        if not access.allowed:
            if access.reason == "login":
                raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
            raise NotEntitled(access.reason_text or None)
        progress = selectors.progress_by_lesson(user=request.user, course=lesson.course).get(lesson.pk)
        previous, following = selectors.lesson_neighbours(lesson)
        data = {
            "id": lesson.pk,
            "course_id": lesson.course_id,
            "title": lesson.title,
            "kind": lesson.kind,
            "body": lesson.body,
            "media_url": lesson.media_url,
            "duration_seconds": lesson.duration_seconds,
            "is_preview": lesson.is_preview,
            "via": access.via,
            "position_seconds": progress.position_seconds if progress else 0,
            "completed": bool(progress and progress.completed),
            "previous_id": previous.pk if previous else None,
            "next_id": following.pk if following else None,
        }
        return Response(self.OutputSerializer(data).data)


class LessonProgressApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LessonProgressInput"

        position_seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600)
        completed = serializers.BooleanField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LessonProgressOutput"

        lesson_id = serializers.IntegerField()
        position_seconds = serializers.IntegerField()
        completed = serializers.BooleanField()
        course_completion_percent = serializers.IntegerField()

    @extend_schema(
        tags=TAG_COURSES,
        summary="Save playback position (completion is sticky; ≥ 90% played counts as learned)",
        operation_id="lessons_progress",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, lesson_id: int):
        lesson = selectors.lesson_get(lesson_id=lesson_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        progress = services.lesson_progress_save(
            user=request.user,
            lesson=lesson,
            position_seconds=data.validated_data["position_seconds"],
            completed=data.validated_data["completed"],
        )
        lessons = selectors.course_lessons(lesson.course)
        percent = selectors.completion_percent(
            lessons=lessons, progress=selectors.progress_by_lesson(user=request.user, course=lesson.course)
        )
        return Response(
            self.OutputSerializer(
                {
                    "lesson_id": lesson.pk,
                    "position_seconds": progress.position_seconds,
                    "completed": progress.completed,
                    "course_completion_percent": percent,
                }
            ).data
        )


class MyCoursesApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MyCoursesOutput"

        id = serializers.IntegerField()
        title = serializers.CharField()
        cover_url = serializers.CharField()
        completion_percent = serializers.IntegerField()

    @extend_schema(
        tags=TAG_COURSES,
        summary="Courses I am learning, with completion",
        operation_id="courses_mine",
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        rows = [
            {"id": c.pk, "title": c.title, "cover_url": _cover(c), "completion_percent": percent}
            for c, percent in selectors.my_courses(user=request.user)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


# ---- events --------------------------------------------------------------------------------------------------


class RegistrationSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EventRegistrationOutput"

    event_id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending / confirmed / waitlisted / cancelled / refunded")
    source = serializers.CharField()
    ticket_code = serializers.CharField(allow_null=True)
    ticket_qr_url = serializers.CharField(allow_null=True)
    hold_expires_at = serializers.DateTimeField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True)
    order_no = serializers.CharField(allow_null=True)
    checkout_url = serializers.CharField(allow_null=True, help_text="pay here while the seat is held")


def _registration_payload(registration) -> dict | None:
    from django.urls import reverse

    if registration is None:
        return None
    code = registration.ticket_code if registration.status == "confirmed" else None
    return {
        "event_id": registration.event_id,
        "status": registration.status,
        "source": registration.source,
        "ticket_code": code,
        "ticket_qr_url": reverse("courses:ticket_qr", args=[code]) if code else None,
        "hold_expires_at": registration.hold_expires_at if registration.status == "pending" else None,
        "checked_in_at": registration.checked_in_at,
        "order_no": registration.order_no,
        "checkout_url": _checkout_url("event", registration.event_id)
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
        "cover_url": _cover(event),
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
        page = paginator.paginate_queryset(selectors.events_listed(), request, view=self)
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
        event = selectors.event_get(event_id=event_id)
        access = selectors.event_access(request.user, event)
        price, unavailable = None, ""
        if access.must_pay:
            price, unavailable = _quote_payload(
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
        event = selectors.event_get(event_id=event_id)
        registration = services.event_register(user=request.user, event=event)
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
        event = selectors.event_get(event_id=event_id)
        registration = services.event_cancel(user=request.user, event=event)
        registration.refresh_from_db()
        return Response(RegistrationSerializer(_registration_payload(registration)).data)


class MyTicketsApi(APIView):
    class OutputSerializer(RegistrationSerializer):
        class Meta:
            ref_name = "MyTicketOutput"

        event = EventRowSerializer()

    @extend_schema(
        tags=TAG_EVENTS,
        summary="My tickets, held seats and waitlist places",
        operation_id="events_my_tickets",
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        rows = [
            {**_registration_payload(r), "event": _event_row(r.event, 0)}
            for r in selectors.my_tickets(user=request.user)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


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
        event = selectors.event_get(event_id=event_id)
        if not selectors.event_can_check_in(request.user, event):  # before validation: reveal nothing
            raise ApplicationError("permission_denied", _("你不是该活动的核销人员"), status_code=403)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.event_check_in(
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
        event = selectors.event_get(event_id=event_id)
        if not selectors.event_can_check_in(request.user, event):
            raise ApplicationError("not_found", _("活动不存在"), status_code=404)
        return Response(self.OutputSerializer(selectors.event_attendance(event)).data)


# ---- camps ---------------------------------------------------------------------------------------------------


class TermRowSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampTermRow"

    id = serializers.IntegerField()
    name = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    days = serializers.IntegerField()


def _term_row(term) -> dict:
    return {
        "id": term.pk,
        "name": term.name,
        "start_date": term.start_date,
        "end_date": term.end_date,
        "days": term.days,
    }


class CampListApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampListOutput"

        id = serializers.IntegerField()
        title = serializers.CharField()
        summary = serializers.CharField()
        cover_url = serializers.CharField()
        teacher = PersonSerializer()
        price_fen = serializers.IntegerField()
        days = serializers.IntegerField()
        included_in_tiers = serializers.ListField(child=serializers.CharField())
        terms = TermRowSerializer(many=True)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Training camps with their terms",
        operation_id="camps_list",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT)],
        responses={200: paginated(OutputSerializer, name="CampList"), **error_responses(404)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.camps_listed(), request, view=self)
        rows = [
            {
                "id": c.pk,
                "title": c.title,
                "summary": c.summary,
                "cover_url": _cover(c),
                "teacher": c.teacher,
                "price_fen": c.price_fen,
                "days": c.days,
                "included_in_tiers": [t.code for t in c.included_in_tiers.all()],
                "terms": [_term_row(t) for t in c.terms.all()],
            }
            for c in page
        ]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)


class TermAccessSerializer(serializers.Serializer):
    state = serializers.CharField(
        help_text="login / joined / join_free / join / buy / tier_required / membership_expired / ended / full"
    )
    message = serializers.CharField()
    can_view = serializers.BooleanField()


class SeatSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampSeat"

    points = serializers.IntegerField()
    checkin_days = serializers.IntegerField()
    streak = serializers.IntegerField(help_text="current streak (alive today)")
    best_streak = serializers.IntegerField()
    makeups_used = serializers.IntegerField()
    makeups_left = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)
    completed = serializers.BooleanField()
    certificate_no = serializers.CharField(allow_null=True)


def _seat_payload(seat, *, today, with_rank: bool = True) -> dict | None:
    if seat is None:
        return None
    camp = seat.term.camp
    return {
        "points": seat.points,
        "checkin_days": seat.checkin_days,
        "streak": seat.current_streak(today),
        "best_streak": seat.best_streak,
        "makeups_used": seat.makeups_used,
        "makeups_left": max(0, camp.makeup_limit - seat.makeups_used) if camp.makeup_days else 0,
        "rank": selectors.seat_rank(seat) if with_rank else None,
        "completed": seat.completed_at is not None,
        "certificate_no": seat.certificate_no,
    }


class TaskSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampTaskOutput"

    id = serializers.IntegerField()
    day = serializers.IntegerField()
    date = serializers.DateField()
    title = serializers.CharField()
    body = serializers.CharField()
    requires_image = serializers.BooleanField()


def _task_payload(term, task) -> dict | None:
    if task is None:
        return None
    return {
        "id": task.pk,
        "day": task.day,
        "date": term.date_of_day(task.day),
        "title": task.title,
        "body": task.body,
        "requires_image": task.requires_image,
    }


class CheckInSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampCheckInOutput"

    id = serializers.IntegerField()
    day = serializers.DateField()
    task_id = serializers.IntegerField()
    task_day = serializers.IntegerField()
    text = serializers.CharField()
    images = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="visible / review (held by the content check) / rejected")
    is_makeup = serializers.BooleanField()
    points_awarded = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    member = PersonSerializer()
    review = inline_serializer(
        name="CampCheckInReview",
        fields={
            "comment": serializers.CharField(),
            "score": serializers.IntegerField(),
            "points": serializers.IntegerField(),
            "reviewer": PersonSerializer(),
            "reviewed_at": serializers.DateTimeField(),
        },
        allow_null=True,
    )


def _checkin_payload(checkin: CheckIn) -> dict:
    return {
        "id": checkin.pk,
        "day": checkin.day,
        "task_id": checkin.task_id,
        "task_day": checkin.task.day,
        "text": checkin.text,
        "images": [default_storage.url(name) for name in checkin.images],
        "status": checkin.status,
        "is_makeup": checkin.is_makeup,
        "points_awarded": checkin.points_awarded,
        "created_at": checkin.created_at,
        "member": checkin.user,
        "review": (
            {
                "comment": checkin.review_comment,
                "score": checkin.review_score,
                "points": checkin.review_points,
                "reviewer": checkin.reviewed_by,
                "reviewed_at": checkin.reviewed_at,
            }
            if checkin.reviewed_at
            else None
        ),
    }


class CampDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampDetailOutput"

        id = serializers.IntegerField()
        title = serializers.CharField()
        summary = serializers.CharField()
        description = serializers.CharField()
        cover_url = serializers.CharField()
        teacher = PersonSerializer()
        price_fen = serializers.IntegerField()
        days = serializers.IntegerField()
        reminder_time = serializers.TimeField()
        makeup_days = serializers.IntegerField()
        makeup_limit = serializers.IntegerField()
        included_in_tiers = serializers.ListField(child=serializers.CharField())
        terms = TermRowSerializer(many=True)
        featured_term_id = serializers.IntegerField(allow_null=True)
        access = TermAccessSerializer(allow_null=True, help_text="access to the featured term")
        price = QuoteSerializer
        price_unavailable = serializers.CharField(allow_blank=True)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Camp page: terms, and what this user can do in the running/next term",
        operation_id="camps_detail",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request, camp_id: int):
        camp = selectors.camp_get(camp_id=camp_id)
        terms = selectors.camp_terms(camp)
        featured = selectors.featured_term(terms, today=timezone.localdate())
        access = price = None
        unavailable = ""
        if featured is not None:
            featured.camp = camp
            term_access = selectors.term_access(request.user, featured)
            access = {
                "state": term_access.state,
                "message": term_access.state_text,
                "can_view": term_access.can_view,
            }
            if term_access.state in ("buy", "membership_expired"):
                price, unavailable = _quote_payload(
                    _camp_quote, user=request.user, item_type="camp", item_id=featured.pk
                )
        data = {
            "id": camp.pk,
            "title": camp.title,
            "summary": camp.summary,
            "description": camp.description,
            "cover_url": _cover(camp),
            "teacher": camp.teacher,
            "price_fen": camp.price_fen,
            "days": camp.days,
            "reminder_time": camp.reminder_time,
            "makeup_days": camp.makeup_days,
            "makeup_limit": camp.makeup_limit,
            "included_in_tiers": [t.code for t in camp.included_in_tiers.all()],
            "terms": [_term_row(t) for t in terms],
            "featured_term_id": featured.pk if featured else None,
            "access": access,
            "price": price,
            "price_unavailable": unavailable,
        }
        return Response(self.OutputSerializer(data).data)


def _viewable_term(request, term_id):
    term = selectors.term_get(term_id=term_id)
    access = selectors.term_access(request.user, term)
    if not access.can_view:
        if access.state == "login":
            raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
        raise NotEntitled(access.state_text or None)
    return term, access


class TermDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(TermRowSerializer):
        class Meta:
            ref_name = "CampTermDetailOutput"

        camp_id = serializers.IntegerField()
        camp_title = serializers.CharField()
        access = TermAccessSerializer()
        today = serializers.DateField()
        day = serializers.IntegerField(help_text="today's day number in the term (may be ≤0 or > days)")
        today_task = TaskSerializer(allow_null=True, help_text="only for members of the term")
        my_checkin_today = CheckInSerializer(allow_null=True)
        seat = SeatSerializer(allow_null=True)
        price = QuoteSerializer
        price_unavailable = serializers.CharField(allow_blank=True)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Term home: access, today's task, my check-in and my score",
        operation_id="camps_term_detail",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request, term_id: int):
        term = selectors.term_get(term_id=term_id)
        access = selectors.term_access(request.user, term)
        today = timezone.localdate()
        day = term.day_number(today)
        task = selectors.task_for_day(term, day) if access.can_view else None
        mine = None
        if access.joined and task is not None:
            mine = CheckIn.objects.filter(seat=access.seat, day=today).select_related("task", "user").first()
        price, unavailable = None, ""
        if access.state in ("buy", "membership_expired"):
            price, unavailable = _quote_payload(
                _camp_quote, user=request.user, item_type="camp", item_id=term.pk
            )
        data = {
            **_term_row(term),
            "camp_id": term.camp_id,
            "camp_title": term.camp.title,
            "access": {"state": access.state, "message": access.state_text, "can_view": access.can_view},
            "today": today,
            "day": day,
            "today_task": _task_payload(term, task),
            "my_checkin_today": _checkin_payload(mine) if mine else None,
            "seat": _seat_payload(access.seat, today=today) if access.joined else None,
            "price": price,
            "price_unavailable": unavailable,
        }
        return Response(self.OutputSerializer(data).data)


class TermJoinApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="Join a term without paying (tier-included or free camps)",
        operation_id="camps_term_join",
        request=None,
        responses={201: SeatSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, term_id: int):
        term = selectors.term_get(term_id=term_id)
        seat = services.term_join(user=request.user, term=term)
        seat.term = term
        return Response(SeatSerializer(_seat_payload(seat, today=timezone.localdate())).data, status=201)


class TermCalendarApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampCalendarDay"

        date = serializers.DateField()
        day = serializers.IntegerField()
        state = serializers.CharField(help_text="done / review / rejected / today / makeup / missed / locked")
        task = TaskSerializer(allow_null=True, help_text="null while locked")
        checkin_id = serializers.IntegerField(allow_null=True)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="My calendar of the term: every day with its task and my state",
        operation_id="camps_term_calendar",
        responses={200: OutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, term_id: int):
        term, access = _viewable_term(request, term_id)
        rows = [
            {
                "date": d.date,
                "day": d.day,
                "state": d.state,
                "task": _task_payload(term, d.task) if d.state != "locked" else None,
                "checkin_id": d.checkin.pk if d.checkin else None,
            }
            for d in selectors.term_calendar(term=term, seat=access.seat if access.joined else None)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


class TermCheckInsApi(APIView):
    """GET: the term's check-ins; POST: check in (打卡)."""

    parser_classes = [CleanMultiPartParser, CleanFormParser, LimitedJSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampCheckInInput"

        task_id = serializers.IntegerField(help_text="today's task, or a past day's for a make-up (补卡)")
        text = serializers.CharField(max_length=5000)
        images = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Check-ins of the term (newest first; ?before=<id> for the next page)",
        operation_id="camps_term_feed",
        parameters=[OpenApiParameter("before", OpenApiTypes.INT)],
        responses={200: CheckInSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, term_id: int):
        term, _access = _viewable_term(request, term_id)
        try:
            before = int(request.query_params.get("before") or 0) or None
        except ValueError:
            before = None
        rows = [_checkin_payload(c) for c in selectors.term_feed(term=term, before_id=before)]
        return Response(CheckInSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Check in (打卡) with text and images",
        description="Refusals: task_locked (future), task_not_today (make-ups off), makeup_window_closed, "
        "makeup_limit_reached, already_checked_in (409), content_rejected, invalid_image, image_too_large.",
        operation_id="camps_checkin_create",
        request={"multipart/form-data": InputSerializer, "application/json": InputSerializer},
        responses={201: CheckInSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, term_id: int):
        term = selectors.term_get(term_id=term_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = get_object_or_404(CampTask, pk=data.validated_data["task_id"], camp_id=term.camp_id)
        images = request.FILES.getlist("images") if request.FILES else []
        checkin = services.checkin_submit(
            user=request.user, term=term, task=task, text=data.validated_data["text"], images=images
        )
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(_checkin_payload(checkin)).data, status=status.HTTP_201_CREATED)


class LeaderboardApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampLeaderboardOutput"

        results = serializers.ListField(
            child=inline_serializer(
                name="CampLeaderboardRow",
                fields={
                    "rank": serializers.IntegerField(),
                    "member": PersonSerializer(),
                    "points": serializers.IntegerField(),
                    "checkin_days": serializers.IntegerField(),
                    "streak": serializers.IntegerField(),
                    "best_streak": serializers.IntegerField(),
                    "completed": serializers.BooleanField(),
                },
            )
        )
        me = SeatSerializer(allow_null=True)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Term leaderboard (points, then days, then best streak) and my rank — fixed query count",
        operation_id="camps_term_leaderboard",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, term_id: int):
        term, access = _viewable_term(request, term_id)
        today = timezone.localdate()
        rows = [
            {
                "rank": index,
                "member": seat.user,
                "points": seat.points,
                "checkin_days": seat.checkin_days,
                "streak": seat.current_streak(today),
                "best_streak": seat.best_streak,
                "completed": seat.completed_at is not None,
            }
            for index, seat in enumerate(selectors.leaderboard(term=term), start=1)
        ]
        me = None
        if access.joined:
            access.seat.term = term
            me = _seat_payload(access.seat, today=today)
        return Response(self.OutputSerializer({"results": rows, "me": me}).data)


class PosterApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="Achievement poster (PNG) with my streak and a QR code of my referral link",
        operation_id="camps_term_poster",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, term_id: int):
        term = selectors.term_get(term_id=term_id)
        png = services.term_poster_png(user=request.user, term=term)
        response = HttpResponse(png, content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="poster-{term.pk}.png"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class CertificateApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampCertificateOutput"

        certificate_no = serializers.CharField()
        completed_at = serializers.DateTimeField()
        image_url = serializers.CharField()

    @extend_schema(
        tags=TAG_CAMPS,
        summary="My completion certificate (404 until the term is completed)",
        operation_id="camps_term_certificate",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, term_id: int):
        from django.urls import reverse

        term, access = _viewable_term(request, term_id)
        seat = access.seat if access.joined else None
        if seat is None or not seat.certificate_no:
            raise ApplicationError("not_completed", _("完成结营要求后才能获得证书"), status_code=404)
        return Response(
            self.OutputSerializer(
                {
                    "certificate_no": seat.certificate_no,
                    "completed_at": seat.completed_at,
                    "image_url": reverse("courses:certificate_png", args=[term.pk]),
                }
            ).data
        )


class MyCampsApi(APIView):
    class OutputSerializer(TermRowSerializer):
        class Meta:
            ref_name = "MyCampsOutput"

        camp_id = serializers.IntegerField()
        camp_title = serializers.CharField()
        seat = SeatSerializer()

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Terms I am in, with my score",
        operation_id="camps_mine",
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        today = timezone.localdate()
        rows = [
            {
                **_term_row(seat.term),
                "camp_id": seat.term.camp_id,
                "camp_title": seat.term.camp.title,
                "seat": _seat_payload(seat, today=today, with_rank=False),
            }
            for seat in selectors.my_terms(user=request.user)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


# ---- teacher tools ---------------------------------------------------------------------------------------------


class ReviewQueueApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampReviewQueueOutput"

        count = serializers.IntegerField()
        median_seconds_to_review = serializers.FloatField(allow_null=True, help_text="last 30 days")
        results = serializers.ListField(
            child=inline_serializer(
                name="CampReviewQueueRow",
                fields={
                    "checkin": CheckInSerializer(),
                    "camp_title": serializers.CharField(),
                    "term_name": serializers.CharField(),
                    "waiting_seconds": serializers.IntegerField(),
                },
            )
        )

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Review queue (点评), longest waiting first — teachers, reviewers, operators",
        operation_id="camps_review_queue",
        parameters=[OpenApiParameter("camp", OpenApiTypes.INT)],
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        try:
            camp_id = int(request.query_params.get("camp") or 0) or None
        except ValueError:
            camp_id = None
        queue = selectors.review_queue(user=request.user, camp_id=camp_id)
        now = timezone.now()
        rows = [
            {
                "checkin": _checkin_payload(c),
                "camp_title": c.term.camp.title,
                "term_name": c.term.name,
                "waiting_seconds": int((now - c.created_at).total_seconds()),
            }
            for c in queue[:50]
        ]
        return Response(
            self.OutputSerializer(
                {
                    "count": queue.count(),
                    "median_seconds_to_review": selectors.review_median_seconds(user=request.user),
                    "results": rows,
                }
            ).data
        )


def _checkin_for_staff(checkin_id, user) -> CheckIn:
    """The check-in, if this user reviews its camp — checked before the input is validated, so a
    member who may not review learns nothing from validation errors."""
    checkin = get_object_or_404(CheckIn.objects.select_related("task", "user", "term__camp"), pk=checkin_id)
    if not selectors.camp_can_review(user, checkin.term.camp):
        raise ApplicationError("permission_denied", _("你不能审核或点评该训练营的打卡"), status_code=403)
    return checkin


class CheckInReviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampReviewInput"

        comment = serializers.CharField(max_length=2000)
        score = serializers.IntegerField(min_value=1, max_value=5)

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Review a check-in with a comment and a 1–5 score (once)",
        operation_id="camps_checkin_review",
        request=InputSerializer,
        responses={200: CheckInSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, checkin_id: int):
        checkin = _checkin_for_staff(checkin_id, request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checkin_review(checkin=checkin, reviewer=request.user, **data.validated_data)
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(_checkin_payload(checkin)).data)


class ModerationQueueApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="Check-ins held by the content check — teachers, reviewers, operators",
        operation_id="camps_moderation_queue",
        responses={200: CheckInSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        rows = [_checkin_payload(c) for c in selectors.moderation_queue(user=request.user)[:100]]
        return Response(CheckInSerializer(rows, many=True).data)


class CheckInModerateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampModerateInput"

        approve = serializers.BooleanField()
        note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=TAG_CAMPS,
        summary="Approve or reject a held check-in",
        operation_id="camps_checkin_moderate",
        request=InputSerializer,
        responses={200: CheckInSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, checkin_id: int):
        checkin = _checkin_for_staff(checkin_id, request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checkin_moderate(checkin=checkin, actor=request.user, **data.validated_data)
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(_checkin_payload(checkin)).data)
