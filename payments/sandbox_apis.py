"""/api/v1 sandbox payment (development only): the mini-program's stand-in for wx.requestPayment.

`make demo` has no WeChat Pay, so an order created with `"channel": "sandbox"` cannot be paid inside the
mini-program, and the sandbox cashier is a web page behind a browser session. This endpoint plays the
member confirming in that cashier: the sandbox marks the trade paid and sends the signed notification
through the same path as WeChat's. 404 whenever PAYMENTS_SANDBOX_ENABLED is off (always in production).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from payments.gateways.base import GatewayError
from payments.models import Channel, Order
from payments.orders import selectors


class OrderSandboxPayApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderSandboxPaid"

        order_no = serializers.CharField()
        status = serializers.ChoiceField(choices=Order.Status.values)

    @extend_schema(
        operation_id="orders_sandbox_pay",
        request=None,
        responses={200: OutputSerializer, **error_responses(400, 401, 404)},
        description=(
            "Development only (PAYMENTS_SANDBOX_ENABLED; 404 otherwise): pay a pending `sandbox` order as "
            "the sandbox cashier would. The mini-program calls it where it would call wx.requestPayment."
        ),
    )
    def post(self, request, order_no: str):
        if not settings.PAYMENTS_SANDBOX_ENABLED:
            raise NotFound()
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        payment = selectors.order_latest_payment(order, channel=Channel.SANDBOX)
        if payment is None:
            raise NotFound()
        if order.status == Order.Status.PENDING:
            from payments.gateways import sandbox

            try:
                answer = sandbox.sandbox_pay(payment.out_trade_no)
            except GatewayError as exc:
                raise ApplicationError("sandbox_pay_failed", exc.message or exc.code) from exc
            if answer >= 300:
                raise ApplicationError("sandbox_pay_failed", _("支付通知处理失败，请稍后刷新"))
            order.refresh_from_db()
        return Response(self.OutputSerializer(order).data)
