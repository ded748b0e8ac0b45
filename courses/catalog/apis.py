"""The catalog's REST API (mini-program and web): the course list, a course, a lesson, saving
progress and the member's courses."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from courses.api_shared import PersonSerializer, QuoteSerializer, cover_url, quote_payload
from courses.catalog import selectors as catalog_selectors
from courses.catalog import services as catalog_services
from courses.media import playback as media_playback

TAG_COURSES = ["courses"]


def _course_head(course) -> dict:
    """The fields the catalog row and the course page both show, for their serializers."""
    return {
        "id": course.pk,
        "title": course.title,
        "price_fen": course.price_fen,
        "included_in_tiers": [t.code for t in course.included_in_tiers.all()],
        "summary": course.summary,
        "cover_url": cover_url(course),
        "teacher": course.teacher,
    }


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
        rows = catalog_selectors.CatalogRows(
            shape="api-list", row=self.cached_row, page=self._slice(paginator, request), user=request.user
        )
        page = paginator.paginate_queryset(rows, request, view=self)
        unlocked = catalog_selectors.unlocked_among(
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
    unlocks_at = serializers.DateTimeField(
        allow_null=True, help_text="when a lesson the reader holds opens (drip); null when open"
    )
    unlock_text = serializers.CharField(
        allow_blank=True, help_text="the drip as shown: 12月10日 解锁 / 开通后第3天解锁; blank when none"
    )


def unlock_fields(access, lesson, *, now) -> dict:
    """`unlocks_at` and `unlock_text` of a lesson row: the member's own date while the drip holds the
    lesson, else what the lesson's drip says to someone without a start (the day or the date)."""
    when = access.unlocks_at(lesson, now=now)
    if when is not None:
        return {
            "unlocks_at": timezone.localtime(when).isoformat(),
            "unlock_text": catalog_selectors.unlock_text(when),
        }
    if not access.unlocked and not lesson.is_preview:
        return {"unlocks_at": None, "unlock_text": catalog_selectors.unlock_day_text(lesson, now=now)}
    return {"unlocks_at": None, "unlock_text": ""}


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
        course, lessons, public, facts = catalog_selectors.course_page(
            course_id=course_id, shape="api", extra=self.public, user=request.user
        )
        access = catalog_selectors.course_access(request.user, course, facts=facts)
        progress = catalog_selectors.progress_by_lesson(user=request.user, course=course)
        now = timezone.now()
        price, unavailable = None, ""
        if not access.unlocked:
            price, unavailable = quote_payload(
                lambda *, user, item_id: catalog_services.course_price(
                    user=user, course=course, access=access
                ),
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
            "completion_percent": catalog_selectors.completion_percent(lessons=lessons, progress=progress),
            "lessons": [
                {
                    "id": row["id"],
                    "title": row["title"],
                    "locked": access.lesson_locked(lesson, now=now),
                    **unlock_fields(access, lesson, now=now),
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
                        "unlocks_at": None,
                        "unlock_text": "",
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


class WatermarkSerializer(serializers.Serializer):
    text = serializers.CharField(
        help_text="what the drifting watermark shows: member number and short nickname"
    )
    member_no = serializers.CharField()
    nickname = serializers.CharField()


class PlaybackSerializer(serializers.Serializer):
    url = serializers.CharField(
        help_text="master playlist (HLS), signed for this user; valid until expires_at"
    )
    expires_at = serializers.DateTimeField()
    watermark = WatermarkSerializer()


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
        playback = PlaybackSerializer(
            allow_null=True,
            help_text="protected media (HLS, AES-128) signed for this user; null: play media_url",
        )

    @extend_schema(
        tags=TAG_COURSES,
        summary="Lesson content (403 not_entitled without the right to it)",
        description=(
            "403 `not_entitled` without the right to the lesson; 403 `lesson_not_released` with "
            "`unlocks_at` (ISO 8601) when the member holds the course but the lesson's drip has not "
            "reached it yet."
        ),
        operation_id="lessons_detail",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        access = catalog_selectors.lesson_access(request.user, lesson)
        if not access.allowed:
            raise catalog_services.lesson_refusal(access)
        progress = catalog_selectors.progress_by_lesson(user=request.user, course=lesson.course).get(
            lesson.pk
        )
        previous, following = catalog_selectors.lesson_neighbours(lesson)
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
            "playback": media_playback.playback_for(
                user=request.user,
                lesson=lesson,
                # a browser's session fetches the key too: bind the URL to it; a token client's
                # player (the mini-program's <video>) cannot send a header: the URL carries the binding
                session_bound=isinstance(request.successful_authenticator, SessionAuthentication),
                absolute=request.build_absolute_uri,
            ),
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
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        progress = catalog_services.lesson_progress_save(
            user=request.user,
            lesson=lesson,
            position_seconds=data.validated_data["position_seconds"],
            completed=data.validated_data["completed"],
        )
        lessons = catalog_selectors.course_lessons(lesson.course)
        percent = catalog_selectors.completion_percent(
            lessons=lessons,
            progress=catalog_selectors.progress_by_lesson(user=request.user, course=lesson.course),
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
            {"id": c.pk, "title": c.title, "cover_url": cover_url(c), "completion_percent": percent}
            for c, percent in catalog_selectors.my_courses(user=request.user)
        ]
        return Response(self.OutputSerializer(rows, many=True).data)
