"""/api/v1/circles/…/questions/ — paid questions (付费问答): asking a guest, the guest's answer, and
the questions a member asked or must answer.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, AuthorSerializer, checkout_url
from circles.models import PaidQuestion
from circles.selectors import access as access_selectors
from circles.selectors import questions as question_selectors
from circles.services import questions as question_services
from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError
from members.models import User


class PaidQuestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    circle_id = serializers.IntegerField()
    asker = AuthorSerializer()
    guest = AuthorSerializer()
    body = serializers.CharField()
    price_fen = serializers.IntegerField()
    status = serializers.CharField(help_text="created, open, answer_review, answered, expired, refunded")
    deadline = serializers.DateTimeField(allow_null=True)
    post_id = serializers.IntegerField(allow_null=True)
    answer_post_id = serializers.IntegerField(allow_null=True)
    item_type = serializers.SerializerMethodField()
    checkout_url = serializers.SerializerMethodField()

    def get_item_type(self, obj) -> str:
        return "circle_question"

    def get_checkout_url(self, obj) -> str:
        return checkout_url("circle_question", obj.pk) if obj.status == PaidQuestion.Status.CREATED else ""


class PaidQuestionCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePaidQuestionCreateInput"

        guest_id = serializers.IntegerField()
        body = serializers.CharField(max_length=2000)

    @extend_schema(
        tags=TAG,
        summary="Ask a guest a paid question (pay with item_type circle_question)",
        request=InputSerializer,
        responses={201: PaidQuestionOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, circle_id: int):

        circle = access_selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guest = User.objects.filter(pk=data.validated_data["guest_id"]).first()
        if guest is None:
            raise ApplicationError("invalid", _("嘉宾不存在"), fields={"guest_id": [_("嘉宾不存在")]})
        question = question_services.paid_question_create(
            circle=circle, asker=request.user, guest=guest, body=data.validated_data["body"]
        )
        return Response(PaidQuestionOutputSerializer(question).data, status=status.HTTP_201_CREATED)


class PaidQuestionAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePaidQuestionAnswerInput"

        body = serializers.CharField(max_length=10000)

    @extend_schema(
        tags=TAG,
        summary="The guest answers a paid question (releases the fee)",
        request=InputSerializer,
        responses={200: PaidQuestionOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, question_id: int):
        question = get_object_or_404(
            PaidQuestion.objects.select_related("circle"), pk=question_id, guest=request.user
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = question_services.paid_question_answer(
            question=question, user=request.user, body=data.validated_data["body"]
        )
        return Response(PaidQuestionOutputSerializer(question).data)


class MyPaidQuestionsApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Paid questions I asked or must answer",
        parameters=[
            OpenApiParameter(
                "role", OpenApiTypes.STR, enum=["asked", "to_answer"], description="default: both"
            ),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(PaidQuestionOutputSerializer, name="CirclePaidQuestionList"),
            **error_responses(404),
        },
    )
    def get(self, request):
        rows = question_selectors.paid_questions_for_user(
            user=request.user, role=request.query_params.get("role", "")
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PaidQuestionOutputSerializer(page, many=True).data)
