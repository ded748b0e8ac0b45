"""/api/v1 orders (API.md rows 4–6): create + pay, read, self-service refund; plus my-orders list."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError
from core.text import IDENTIFIER
from payments import items
from payments.models import Channel, Order, Payment
from payments.orders import selectors
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import order_cancel_by_member, payment_start, payment_sync
from payments.orders.refunds import refund_request
from payments.orders.views import client_ip

PLATFORMS = ["ios", "android", "windows", "mac", "devtools", "ohos", "web", ""]

PaymentParamsSerializer = inline_serializer(
    name="OrderPaymentParams",
    fields={
        "appId": serializers.CharField(required=False, help_text="wechat_miniprogram / wechat_jsapi"),
        "timeStamp": serializers.CharField(required=False),
        "nonceStr": serializers.CharField(required=False),
        "package": serializers.CharField(required=False, help_text="prepay_id=…"),
        "signType": serializers.CharField(required=False, help_text="RSA"),
        "paySign": serializers.CharField(required=False),
        "code_url": serializers.CharField(required=False, help_text="wechat_native: show as a QR code"),
        "h5_url": serializers.CharField(required=False, help_text="wechat_h5: redirect the browser"),
        "cashier_url": serializers.CharField(required=False, help_text="sandbox (development only)"),
    },
)


def payment_params(payment: Payment | None) -> dict[str, Any] | None:
    if payment is None:
        return None
    params = dict(payment.client_params)
    if "cashier_url" in params and params["cashier_url"].startswith("/"):
        params["cashier_url"] = settings.SITE_URL + params["cashier_url"]
    return params


class OrdersApi(APIView):
    """POST: create an order and start its payment (row 4). GET: the caller's orders, newest first."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCreateInput"

        item_type = serializers.CharField(max_length=32)
        # ASCII only: int() reads "١٢٣" as 123 (core/text.py).
        item_id = serializers.RegexField(
            IDENTIFIER.pattern, max_length=64, help_text="tier code for membership, else an integer id"
        )
        channel = serializers.ChoiceField(choices=Channel.values)
        referral_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        coupon_code = serializers.CharField(
            max_length=32,
            required=False,
            allow_blank=True,
            default="",
            help_text="a coupon the caller holds (GET /api/v1/coupons/mine/) or a public code",
        )
        platform = serializers.ChoiceField(
            choices=PLATFORMS,
            required=False,
            default="",
            help_text="wx.getSystemInfo().platform; ios refuses virtual goods",
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderCreated"

        order_no = serializers.CharField()
        status = serializers.ChoiceField(choices=Order.Status.values)
        amount_fen = serializers.IntegerField(help_text="what WeChat is asked for")
        discount_fen = serializers.IntegerField(help_text="list price minus amount_fen (all discounts)")
        payment = PaymentParamsSerializer

    class ListItemSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderListItem"

        order_no = serializers.CharField()
        status = serializers.ChoiceField(choices=Order.Status.values)
        title = serializers.CharField()
        item_type = serializers.CharField()
        item_id = serializers.CharField()
        amount_fen = serializers.IntegerField()
        refunded_fen = serializers.IntegerField()
        channel = serializers.CharField()
        created_at = serializers.DateTimeField()
        paid_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        operation_id="orders_create",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **error_responses(400, 401, 409, 502),
        },
        description=(
            "Create an order and start its payment. `payment` holds the arguments of `wx.requestPayment` "
            "(wechat_miniprogram), `code_url` (wechat_native), `h5_url` (wechat_h5) or `cashier_url` (sandbox). "
            "An iOS mini-program buying a virtual item gets `400 ios_virtual_payment_unsupported` with "
            "`web_checkout_url`."
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        kind = items.get(values["item_type"])
        if kind.integer_ids and not values["item_id"].isdigit():
            raise items.ItemUnavailable()
        order = order_create(
            user=request.user,
            item_type=values["item_type"],
            item_id=values["item_id"],
            channel=values["channel"],
            referral_code=values["referral_code"],
            coupon_code=values["coupon_code"],
            platform=values["platform"],
        )
        payment = None
        if order.status == Order.Status.PENDING:
            try:
                payment = payment_start(order=order, channel=order.channel, client_ip=client_ip(request))
            except ApplicationError as exc:
                exc.extra = {**exc.extra, "order_no": order.order_no}
                raise
        body = {
            "order_no": order.order_no,
            "status": order.status,
            "amount_fen": order.amount_fen,
            "discount_fen": order.discount_fen,
            "payment": payment_params(payment),
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="orders_list",
        responses={200: paginated(ListItemSerializer, name="OrderList"), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.orders_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(self.ListItemSerializer(page, many=True).data)


class OrderDetailApi(APIView):
    """Row 5. While pending, asks WeChat at most every 5 s (the client polls after wx.requestPayment)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderDetail"

        order_no = serializers.CharField()
        status = serializers.ChoiceField(choices=Order.Status.values)
        amount_fen = serializers.IntegerField()
        paid_at = serializers.DateTimeField(allow_null=True)
        item_type = serializers.CharField()
        item_id = serializers.CharField()

    @extend_schema(
        operation_id="orders_retrieve", responses={200: OutputSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, order_no: str) -> Response:
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        if order.status == Order.Status.PENDING:
            payment = selectors.order_latest_payment(order)
            if (
                payment is not None
                and payment.status == Payment.Status.PREPAID
                and cache.add(f"payments:status-sync:{payment.pk}", 1, timeout=5)
            ):
                payment_sync(payment=payment)
                order.refresh_from_db()
        return Response(self.OutputSerializer(order).data)


class OrderCloseApi(APIView):
    """取消订单: the member gives up an unpaid order — what a refusal such as `membership_order_pending`
    asks of them. WeChat closes the payment first (`order_close`); an order WeChat says was paid meanwhile
    is answered as paid, never closed."""

    @extend_schema(
        operation_id="orders_close",
        summary="Cancel my unpaid order (取消订单)",
        request=None,
        responses={200: OrderDetailApi.OutputSerializer, **error_responses(401, 404, 409, 503)},
    )
    def post(self, request: Request, order_no: str) -> Response:
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        order = order_cancel_by_member(order=order)
        return Response(OrderDetailApi.OutputSerializer(order).data)


class OrderRefundApi(APIView):
    """Row 6: self-service full refund inside the item's refund window; GET previews it."""

    throttle_scope = "refund"

    class PreviewSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderRefundPreview"

        refundable = serializers.BooleanField(
            help_text="true when a self-service refund would be accepted now"
        )
        amount_fen = serializers.IntegerField(help_text="what would be refunded (0 when not refundable)")
        code = serializers.CharField(help_text="why not (refund_window_closed, credit_used, points_spent …)")
        message = serializers.CharField()
        losses = serializers.ListField(child=serializers.CharField(), help_text="what the refund takes back")

    @extend_schema(
        operation_id="orders_refund_preview",
        responses={200: PreviewSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, order_no: str) -> Response:
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        preview = selectors.refund_preview(order)
        if preview is None:
            open_paid = order.status == Order.Status.PAID and order.amount_fen > 0
            code = "refund_window_closed" if open_paid else "order_not_refundable"
            message = (
                _("已超过可自助退款的期限") if code == "refund_window_closed" else _("该订单不能自助退款")
            )
            data = {"refundable": False, "amount_fen": 0, "code": code, "message": message, "losses": []}
        else:
            refusal = preview.refusal
            data = {
                "refundable": preview.allowed,
                "amount_fen": preview.amount_fen if preview.allowed else 0,
                "code": refusal.refusal_code if refusal else "",
                "message": refusal.text if refusal else "",
                "losses": preview.losses,
            }
        return Response(self.PreviewSerializer(data).data)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderRefundInput"

        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrderRefundResult"

        status = serializers.ChoiceField(choices=Order.Status.values)

    @extend_schema(
        operation_id="orders_refund",
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            400: OpenApiResponse(description="refund_window_closed, invalid"),
            **error_responses(401, 404, 409, 429),
        },
    )
    def post(self, request: Request, order_no: str) -> Response:
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund_request(
            order=order,
            amount_fen=None,
            reason=data.validated_data["reason"],
            requested_by=request.user,
            self_service=True,
        )
        order.refresh_from_db()
        return Response(self.OutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)
