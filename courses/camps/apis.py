"""The camps' REST API for members: camps and terms, joining, the calendar, check-ins (make-ups too),
the leaderboard and the member's camps. The poster and certificate are in `achievement_apis`."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError, NotEntitled
from core.parsers import CleanFormParser, CleanMultiPartParser, LimitedJSONParser
from courses.api_shared import PersonSerializer, QuoteSerializer, cover_url, quote_payload
from courses.camps import checkins, leaderboards, seats
from courses.camps import selectors as camp_selectors
from courses.models import CampTask, CheckIn

TAG_CAMPS = ["camps"]


def _camp_quote(*, user, item_id):
    return seats.camp_quote(user=user, term_id=item_id)


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
        page = paginator.paginate_queryset(camp_selectors.camps_listed(), request, view=self)
        rows = [
            {
                "id": c.pk,
                "title": c.title,
                "summary": c.summary,
                "cover_url": cover_url(c),
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
        "rank": leaderboards.seat_rank(seat) if with_rank else None,
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


def checkin_payload(checkin: CheckIn) -> dict:
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
        camp = camp_selectors.camp_get(camp_id=camp_id)
        terms = camp_selectors.camp_terms(camp)
        featured = camp_selectors.featured_term(terms, today=timezone.localdate())
        access = price = None
        unavailable = ""
        if featured is not None:
            featured.camp = camp
            term_access = camp_selectors.term_access(request.user, featured)
            access = {
                "state": term_access.state,
                "message": term_access.state_text,
                "can_view": term_access.can_view,
            }
            if term_access.state in ("buy", "membership_expired"):
                price, unavailable = quote_payload(
                    _camp_quote, user=request.user, item_type="camp", item_id=featured.pk
                )
        data = {
            "id": camp.pk,
            "title": camp.title,
            "summary": camp.summary,
            "description": camp.description,
            "cover_url": cover_url(camp),
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


def viewable_term(request, term_id):
    """The term and the member's access to it, or the API's 401 / 403 (also for the achievement APIs)."""
    term = camp_selectors.term_get(term_id=term_id)
    access = camp_selectors.term_access(request.user, term)
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
        term = camp_selectors.term_get(term_id=term_id)
        access = camp_selectors.term_access(request.user, term)
        today = timezone.localdate()
        day = term.day_number(today)
        task = camp_selectors.task_for_day(term, day) if access.can_view else None
        mine = None
        if access.joined and task is not None:
            mine = CheckIn.objects.filter(seat=access.seat, day=today).select_related("task", "user").first()
        price, unavailable = None, ""
        if access.state in ("buy", "membership_expired"):
            price, unavailable = quote_payload(
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
            "my_checkin_today": checkin_payload(mine) if mine else None,
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
        term = camp_selectors.term_get(term_id=term_id)
        seat = seats.term_join(user=request.user, term=term)
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
        term, access = viewable_term(request, term_id)
        rows = [
            {
                "date": d.date,
                "day": d.day,
                "state": d.state,
                "task": _task_payload(term, d.task) if d.state != "locked" else None,
                "checkin_id": d.checkin.pk if d.checkin else None,
            }
            for d in camp_selectors.term_calendar(term=term, seat=access.seat if access.joined else None)
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
        term, _access = viewable_term(request, term_id)
        try:
            before = int(request.query_params.get("before") or 0) or None
        except ValueError:
            before = None
        rows = [checkin_payload(c) for c in camp_selectors.term_feed(term=term, before_id=before)]
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
        term = camp_selectors.term_get(term_id=term_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = get_object_or_404(CampTask, pk=data.validated_data["task_id"], camp_id=term.camp_id)
        images = request.FILES.getlist("images") if request.FILES else []
        checkin = checkins.checkin_submit(
            user=request.user, term=term, task=task, text=data.validated_data["text"], images=images
        )
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(checkin_payload(checkin)).data, status=status.HTTP_201_CREATED)


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
        term, access = viewable_term(request, term_id)
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
            for index, seat in enumerate(leaderboards.leaderboard(term=term), start=1)
        ]
        me = None
        if access.joined:
            access.seat.term = term
            me = _seat_payload(access.seat, today=today)
        return Response(self.OutputSerializer({"results": rows, "me": me}).data)


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
            for seat in camp_selectors.my_terms(user=request.user)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)
