"""/api/v1 points: the balance and history, the points mall's rewards and redeeming one.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from members.points import mall, selectors


class PointsEntrySerializer(serializers.Serializer):
    class Meta:
        ref_name = "PointsEntry"

    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PointsPagination(Pagination):
    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["balance"] = self.balance
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["balance"] = {"type": "integer"}
        return schema


class PointsApi(APIView):
    """The caller's points balance and history (newest first)."""

    pagination_class = PointsPagination

    @extend_schema(
        operation_id="points_history",
        tags=["points"],
        responses={200: PointsEntrySerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        paginator = PointsPagination()
        paginator.balance = selectors.points_balance(request.user)
        page = paginator.paginate_queryset(selectors.points_history(request.user), request, view=self)
        return paginator.get_paginated_response(PointsEntrySerializer(page, many=True).data)


class RewardSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Reward"

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    item_type = serializers.CharField()
    item_id = serializers.CharField()
    points_price = serializers.IntegerField()
    stock = serializers.IntegerField(allow_null=True)
    per_member_limit = serializers.IntegerField()
    redeemed_by_me = serializers.IntegerField()


class RewardsApi(APIView):
    """The points mall: rewards on the shelf."""

    @extend_schema(
        operation_id="points_rewards_list",
        tags=["points"],
        responses={200: paginated(RewardSerializer, name="RewardList"), **error_responses(401)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.rewards_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(RewardSerializer(page, many=True).data)


class RedeemApi(APIView):
    """Redeem a reward. Send a fresh `idempotency_key` per tap; a repeated key returns the first
    redemption. More points than held → `400 insufficient_points`."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RedeemInput"

        idempotency_key = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Redemption"

        id = serializers.IntegerField()
        reward_id = serializers.IntegerField()
        points = serializers.IntegerField()
        order_no = serializers.CharField(source="order.order_no")
        balance = serializers.IntegerField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="points_redeem",
        tags=["points"],
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, reward_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = mall.points_redeem(
            user=request.user, reward_id=reward_id, idempotency_key=data.validated_data["idempotency_key"]
        )
        output = {
            "id": redemption.pk,
            "reward_id": redemption.reward_id,
            "points": redemption.points,
            "order": redemption.order,
            "balance": selectors.points_balance(request.user),
            "created_at": redemption.created_at,
        }
        return Response(self.OutputSerializer(output).data, status=status.HTTP_201_CREATED)
