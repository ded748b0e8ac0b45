"""Pages of the money path: checkout → pay → result, my orders, and the
WeChat Pay notify endpoint (csrf-exempt; answers 204 when handled, {"code": "FAIL"} otherwise)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.http import redirect_to_next
from core.ip import client_ip as core_client_ip
from core.posters import qr_png
from core.wechat import wechatpay_configured
from payments import items
from payments.models import Channel, Order, Payment
from payments.orders import selectors
from payments.orders.checkout import order_change_channel, order_create
from payments.orders.forms import CheckoutForm, RefundRequestForm
from payments.orders.notifications import notification_handle
from payments.orders.payment_attempts import order_cancel_by_member, payment_start, payment_sync
from payments.orders.refunds import refund_request


def client_ip(request: HttpRequest) -> str:
    """The payer's address for WeChat Pay (`payer_client_ip`): the one rule of core.ip."""
    return core_client_ip(request) or "127.0.0.1"


def in_wechat_browser(request: HttpRequest) -> bool:
    return "micromessenger" in request.META.get("HTTP_USER_AGENT", "").lower()


def is_mobile(request: HttpRequest) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "").lower()
    return any(word in agent for word in ("iphone", "android", "mobile", "ipad", "harmonyos"))


def available_channels(request: HttpRequest) -> list[tuple[str, str]]:
    """Payment methods that work in this browser, best first."""
    channels: list[str] = []
    if wechatpay_configured():
        if in_wechat_browser(request):
            # H5 pay does not work inside WeChat; without a 公众号 a long-pressed QR code still does.
            channels.append(Channel.WECHAT_JSAPI if settings.WECHAT_MP_APPID else Channel.WECHAT_NATIVE)
        elif is_mobile(request):
            channels.append(Channel.WECHAT_H5)
        else:
            channels.append(Channel.WECHAT_NATIVE)
    if settings.PAYMENTS_SANDBOX_ENABLED:
        channels.append(Channel.SANDBOX)
    labels = dict(Channel.choices)
    return [(c, str(labels[c])) for c in channels]


# ---- checkout ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    channels = available_channels(request)
    form = CheckoutForm.for_request(request, channels=channels)
    form.is_valid()  # field errors (an over-long id, a method not offered) are shown; the item is re-read
    item_type, item_id, referral_code = form.item()
    coupon_code = form.chosen_coupon()
    try:
        quote = items.quote(
            user=request.user, item_type=item_type, item_id=item_id, referral_code=referral_code
        )
    except ApplicationError as exc:
        return render(request, "payments/checkout_unavailable.html", {"message": exc.message}, status=400)
    coupon_error = ""
    if coupon_code:  # the price with the chosen coupon; one that does not apply is said beside it
        try:
            quote = items.quote(
                user=request.user,
                item_type=item_type,
                item_id=item_id,
                referral_code=referral_code,
                coupon_code=coupon_code,
            )
        except ApplicationError as exc:
            coupon_error, coupon_code = exc.message, ""
    if request.method == "POST":
        channel = form.cleaned_data.get("channel", "") if form.is_valid() else ""
        if not channel:
            messages.error(request, _("请选择支付方式"))
        else:
            try:
                order = order_create(
                    user=request.user,
                    item_type=item_type,
                    item_id=item_id,
                    channel=channel,
                    referral_code=referral_code,
                    coupon_code=coupon_code,
                    platform="web",
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                if order.status == Order.Status.PAID:  # free: nothing to pay, straight to what was bought
                    return redirect(just_paid_url(order))
                return redirect("payments:order_pay", order_no=order.order_no)
    kind = items.get(item_type)
    return render(
        request,
        "payments/checkout.html",
        {
            "quote": quote,
            "item_type": item_type,
            "item_id": item_id,
            "kind": kind,
            "referral_code": referral_code,
            "coupon_code": coupon_code,
            "coupon_error": coupon_error,
            "channels": channels,
            "refund_days": kind.refund_window.days,
        },
    )


@login_required
def order_pay(request: HttpRequest, order_no: str) -> HttpResponse:
    """The cashier for one order: Native QR, H5 redirect, JSAPI in WeChat, or the sandbox."""
    order = selectors.order_get_for_user(user=request.user, order_no=order_no)
    if order.status != Order.Status.PENDING:
        return redirect("payments:order_detail", order_no=order.order_no)
    channel = request.GET.get("channel") or order.channel
    if channel not in dict(available_channels(request)):
        channel = order.channel
    try:
        order_change_channel(order=order, channel=channel)
        payment = payment_start(order=order, channel=channel, client_ip=client_ip(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("payments:order_detail", order_no=order.order_no)
    params = payment.client_params
    result_url = just_paid_url(order)
    if channel == Channel.SANDBOX:
        return redirect(params["cashier_url"])
    if channel == Channel.WECHAT_H5:
        target = params["h5_url"]
        joiner = "&" if "?" in target else "?"
        back = urlencode({"redirect_url": request.build_absolute_uri(result_url)})
        return redirect(f"{target}{joiner}{back}")
    context = {"order": order, "payment": payment, "channel": channel, "result_url": result_url}
    if channel == Channel.WECHAT_NATIVE:
        context["qr_data_uri"] = (
            "data:image/png;base64," + base64.b64encode(qr_png(params["code_url"])).decode()
        )
    if channel in (Channel.WECHAT_JSAPI, Channel.WECHAT_MINIPROGRAM):
        context["jsapi"] = params
    return render(request, "payments/cashier.html", context)


JUST_PAID = "pay"  # ?from=pay: the member arrives from paying (cashier, WeChat's return, a free order)


def just_paid_url(order: Order) -> str:
    """The order page as the end of paying: once the order is paid it forwards to what was bought."""
    return f"{reverse('payments:order_detail', args=[order.order_no])}?from={JUST_PAID}"


def _forward_to_purchase(request: HttpRequest, order: Order, destination: tuple[str, str] | None) -> str:
    """Where a member who has just paid goes (the course, circle, ticket, term …), with a success
    message; "" when the order is not paid yet or has no such place (the order page stays)."""
    if request.GET.get("from") != JUST_PAID or destination is None:
        return ""
    messages.success(request, _("支付成功：%(title)s") % {"title": order.title})
    return destination[0]


@login_required
def order_detail(request: HttpRequest, order_no: str) -> HttpResponse:
    """The result page; while pending it polls `order_status` (htmx) until paid or closed. Reached
    from paying (`?from=pay`), a paid order forwards to what was bought; from 我的订单 it stays."""
    order = selectors.order_get_for_user(user=request.user, order_no=order_no)
    context = _order_context(order)
    target = _forward_to_purchase(request, order, context["destination"])
    if target:
        return redirect(target)
    context["just_paid"] = request.GET.get("from") == JUST_PAID
    return render(request, "payments/result.html", context)


def _order_context(order: Order) -> dict[str, Any]:
    return {
        "order": order,
        "destination": selectors.purchase_destination(order),
        "refund_preview": selectors.refund_preview(order),
        "no_refund_reason": selectors.no_self_refund_reason(order),
        "active_refund": selectors.order_active_refund(order),
        "is_pending": order.status == Order.Status.PENDING,
    }


@login_required
def order_status(request: HttpRequest, order_no: str) -> HttpResponse:
    """htmx fragment polled by the result page. Asks WeChat at most every 5 s while pending."""
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
    context = _order_context(order)
    target = _forward_to_purchase(request, order, context["destination"])
    context["just_paid"] = request.GET.get("from") == JUST_PAID
    response = render(request, "payments/_order_status.html", context)
    if target:
        response["HX-Redirect"] = target  # htmx leaves the polling page for what was bought
    return response


@login_required
def my_orders(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.orders_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "payments/my_orders.html", {"page": page, "orders": page.object_list})


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_no: str) -> HttpResponse:
    """取消订单 on the order page: the same rule as POST /api/v1/orders/{no}/close/."""
    order = selectors.order_get_for_user(user=request.user, order_no=order_no)
    try:
        order = order_cancel_by_member(order=order)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if order.status == Order.Status.CLOSED:
            messages.success(request, _("订单已取消"))
    return redirect("payments:order_detail", order_no=order.order_no)


@login_required
@require_POST
def order_refund(request: HttpRequest, order_no: str) -> HttpResponse:
    order = selectors.order_get_for_user(user=request.user, order_no=order_no)
    form = RefundRequestForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        refund_request(
            order=order,
            amount_fen=None,
            reason=reason or _("用户自助退款"),
            requested_by=request.user,
            self_service=True,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已提交退款申请，原路退回，一般几分钟内到账"))
    return redirect_to_next(request, "payments:order_detail", order_no=order.order_no)


@login_required
def order_qr(request: HttpRequest, order_no: str) -> HttpResponse:
    """PNG of the Native code_url (for clients that cannot show data URIs)."""
    order = selectors.order_get_for_user(user=request.user, order_no=order_no)
    payment = selectors.order_latest_payment(order, channel=Channel.WECHAT_NATIVE)
    if payment is None or "code_url" not in payment.client_params or order.status != Order.Status.PENDING:
        raise Http404
    response = HttpResponse(qr_png(payment.client_params["code_url"]), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


# ---- WeChat Pay notifications -----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def wechatpay_notify(request: HttpRequest) -> HttpResponse:
    result = notification_handle(body=request.body, meta=request.META, remote_addr=core_client_ip(request))
    if result.status < 300:
        return HttpResponse(status=result.status)
    return JsonResponse({"code": "FAIL", "message": result.message}, status=result.status)
