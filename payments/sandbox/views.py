"""The sandbox cashier page and the mini-program's sandbox payment API (development only).

`make demo` has no WeChat Pay, so an order created with `"channel": "sandbox"` is paid here: the
member confirms in the cashier page (web) or the mini-program calls `POST /api/v1/orders/{no}/
sandbox-pay/` where it would call wx.requestPayment. Both play WeChat's side through the sandbox
gateway (`payments.gateways.sandbox.sandbox_pay`), which signs a real v3 notification and hands it
to the same notification service WeChat's callbacks reach. Routed only when PAYMENTS_SANDBOX_ENABLED
is on at startup (payments/urls.py, payments/api_urls.py); both also answer 404 if it is turned off
while running.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from payments.gateways import sandbox
from payments.gateways.base import GatewayError
from payments.models import Channel, Order
from payments.orders import selectors
from payments.orders.views import just_paid_url


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_cashier(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    if not settings.PAYMENTS_SANDBOX_ENABLED:
        raise Http404
    payment = selectors.payment_for_out_trade_no(out_trade_no)
    if payment is None or payment.order.user_id != request.user.pk or payment.channel != Channel.SANDBOX:
        raise Http404
    order = payment.order
    if request.method == "POST":
        try:
            status = sandbox.sandbox_pay(out_trade_no)
        except GatewayError as exc:
            messages.error(request, exc.message or exc.code)
            return redirect("payments:order_detail", order_no=order.order_no)
        if status >= 300:
            messages.error(request, _("支付通知处理失败（%(s)s），请稍后刷新") % {"s": status})
            return redirect("payments:order_detail", order_no=order.order_no)
        return redirect(just_paid_url(order))
    return render(request, "payments/sandbox_cashier.html", {"order": order, "payment": payment})


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
    def post(self, request: Request, order_no: str) -> Response:
        if not settings.PAYMENTS_SANDBOX_ENABLED:
            raise NotFound()
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        payment = selectors.order_latest_payment(order, channel=Channel.SANDBOX)
        if payment is None:
            raise NotFound()
        if order.status == Order.Status.PENDING:
            try:
                answer = sandbox.sandbox_pay(payment.out_trade_no)
            except GatewayError as exc:
                raise ApplicationError("sandbox_pay_failed", exc.message or exc.code) from exc
            if answer >= 300:
                raise ApplicationError("sandbox_pay_failed", _("支付通知处理失败，请稍后刷新"))
            order.refresh_from_db()
        return Response(self.OutputSerializer(order).data)
