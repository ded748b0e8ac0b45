"""POST /api/v1/redeem-codes/redeem/ (API.md row 12, fixed): a member redeems a code
(growth.redeem_codes.services)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from growth.redeem_codes import services


class RedeemCodeRedeemApi(APIView):
    """Redeem a code for its item (a zero-amount order). An unknown, used, revoked or expired code
    answers `400 redeem_code_invalid` without saying which; a second code of a batch the member already
    used answers `409 redeem_code_batch_used`; the item's own refusals keep their codes. Sending your
    own redeemed code again answers with that redemption. Throttled (`redeem_code` rate)."""

    throttle_scope = "redeem_code"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RedeemCodeInput"

        code = serializers.CharField(
            max_length=32, help_text="XXXX-XXXX-XXXX; spaces, dashes and case are ignored"
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RedeemCodeResult"

        order_no = serializers.CharField()
        item_type = serializers.CharField()
        item_id = serializers.CharField()

    @extend_schema(
        operation_id="redeem_codes_redeem",
        tags=["redeem-codes"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = services.code_redeem(user=request.user, raw_code=data.validated_data["code"])
        order = code.order
        assert order is not None  # a redeemed code has its order (database constraint)
        return Response(
            self.OutputSerializer(
                {
                    "order_no": order.order_no,
                    "item_type": order.item_type,
                    "item_id": order.item_id,
                    "title": order.title,
                }
            ).data
        )
