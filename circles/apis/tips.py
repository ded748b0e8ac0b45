"""/api/v1/circles/tips/… — tip (打赏) presets and limits, and creating a tip to pay through orders."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, checkout_url
from circles.models import CircleSettings, Comment
from circles.selectors import posts as post_selectors
from circles.services import tips as tip_services
from core.api import error_responses
from core.errors import ApplicationError


class TipOptionsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipOptionsOutput"

        presets_fen = serializers.ListField(child=serializers.IntegerField())
        min_fen = serializers.IntegerField()
        max_fen = serializers.IntegerField()
        platform_fee_bp = serializers.IntegerField()

    @extend_schema(tags=TAG, summary="Tip presets and limits", responses={200: OutputSerializer})
    def get(self, request):
        conf = CircleSettings.current()
        return Response(
            self.OutputSerializer(
                {
                    "presets_fen": conf.preset_fen,
                    "min_fen": conf.tip_min_fen,
                    "max_fen": conf.tip_max_fen,
                    "platform_fee_bp": conf.tip_platform_fee_bp,
                }
            ).data
        )


class TipCreateApi(APIView):
    """Create a tip intent; then pay it with POST /api/v1/orders/ {item_type: "tip", item_id: tip_id}."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipCreateInput"

        post_id = serializers.IntegerField(required=False, allow_null=True)
        comment_id = serializers.IntegerField(required=False, allow_null=True)
        amount_fen = serializers.IntegerField(min_value=1)
        message = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipCreateOutput"

        tip_id = serializers.IntegerField()
        item_type = serializers.CharField()
        item_id = serializers.CharField()
        amount_fen = serializers.IntegerField()
        author_share_fen = serializers.IntegerField()
        platform_fee_fen = serializers.IntegerField()
        checkout_url = serializers.CharField()

    @extend_schema(
        tags=TAG,
        summary="Tip a post or comment (creates the item to pay)",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        post = comment = None
        if v.get("post_id"):
            post, _a = post_selectors.post_get_for_reader(post_id=v["post_id"], user=request.user)
        elif v.get("comment_id"):
            comment = get_object_or_404(Comment.objects.select_related("post__circle"), pk=v["comment_id"])
            post_selectors.post_get_for_reader(post_id=comment.post_id, user=request.user)
        else:
            raise ApplicationError("invalid", _("请选择打赏的帖子或评论"), fields={"post_id": [_("必填")]})
        intent = tip_services.tip_intent_create(
            user=request.user, amount_fen=v["amount_fen"], post=post, comment=comment, message=v["message"]
        )
        return Response(
            self.OutputSerializer(
                {
                    "tip_id": intent.pk,
                    "item_type": "tip",
                    "item_id": str(intent.pk),
                    "amount_fen": intent.amount_fen,
                    "author_share_fen": intent.author_share_fen,
                    "platform_fee_fen": intent.platform_fee_fen,
                    "checkout_url": checkout_url("tip", intent.pk),
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
