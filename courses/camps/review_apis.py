"""The teachers' API for camps: the review queue, reviewing a check-in (点评), the moderation queue
and moderating a held check-in."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from courses.camps import review_queues, reviews
from courses.camps import selectors as camp_selectors
from courses.camps.apis import CheckInSerializer, checkin_payload
from courses.models import CheckIn

TAG_CAMPS = ["camps"]


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
        queue = review_queues.review_queue(user=request.user, camp_id=camp_id)
        now = timezone.now()
        rows = [
            {
                "checkin": checkin_payload(c),
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
                    "median_seconds_to_review": review_queues.review_median_seconds(user=request.user),
                    "results": rows,
                }
            ).data
        )


def _checkin_for_staff(checkin_id, user) -> CheckIn:
    """The check-in, if this user reviews its camp — checked before the input is validated, so a
    member who may not review learns nothing from validation errors."""
    checkin = get_object_or_404(CheckIn.objects.select_related("task", "user", "term__camp"), pk=checkin_id)
    if not camp_selectors.camp_can_review(user, checkin.term.camp):
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
        reviews.checkin_review(checkin=checkin, reviewer=request.user, **data.validated_data)
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(checkin_payload(checkin)).data)


class ModerationQueueApi(APIView):
    @extend_schema(
        tags=TAG_CAMPS,
        summary="Check-ins held by the content check — teachers, reviewers, operators",
        operation_id="camps_moderation_queue",
        responses={200: CheckInSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        rows = [checkin_payload(c) for c in review_queues.moderation_queue(user=request.user)[:100]]
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
        reviews.checkin_moderate(checkin=checkin, actor=request.user, **data.validated_data)
        checkin = CheckIn.objects.select_related("task", "user", "reviewed_by").get(pk=checkin.pk)
        return Response(CheckInSerializer(checkin_payload(checkin)).data)
