"""API.md rows 4–6 against the fake WeChat Pay server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.gateways import protocol
from payments.models import Order, Payment, Refund
from tests.payments.catalog import PHYSICAL_ITEM, TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.wechat_support import api_client, deliver, give_openid

pytestmark = pytest.mark.django_db


def test_miniprogram_order_returns_request_payment_args_signed_with_merchant_key(
    buyer, fake_wechat, wechatpay_keys
):
    give_openid(buyer)

    response = api_client(buyer).post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["amount_fen"] == 9900 and body["order_no"]
    pay = body["payment"]
    assert set(pay) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert pay["appId"] == "wx_test_miniprogram" and pay["signType"] == "RSA"
    assert pay["package"].startswith("prepay_id=wx")
    message = f"{pay['appId']}\n{pay['timeStamp']}\n{pay['nonceStr']}\n{pay['package']}\n"
    assert protocol.rsa_verify(wechatpay_keys.merchant.public_pem, message, pay["paySign"])
    out_trade_no = Payment.objects.get(order__order_no=body["order_no"]).out_trade_no
    trx = fake_wechat.transactions[out_trade_no]
    assert trx["payer"] == {"openid": f"o_test_{buyer.pk}"} and trx["amount"]["total"] == 9900


def test_full_api_path_create_pay_notify_read_refund(
    buyer, fake_wechat, test_items, django_capture_on_commit_callbacks
):
    give_openid(buyer)
    client = api_client(buyer)
    created = client.post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    ).json()
    order_no = created["order_no"]
    payment = Payment.objects.get(order__order_no=order_no)

    headers, body = fake_wechat.pay(payment.out_trade_no)
    assert deliver(headers, body).status_code in (200, 204)

    detail = client.get(f"/api/v1/orders/{order_no}/").json()
    assert detail["status"] == "paid" and detail["amount_fen"] == 9900
    assert detail["item_type"] == TEST_ITEM and detail["item_id"] == "A" and detail["paid_at"]
    assert set(detail) == {"order_no", "status", "amount_fen", "paid_at", "item_type", "item_id"}

    with django_capture_on_commit_callbacks(execute=True):
        refund = client.post(f"/api/v1/orders/{order_no}/refund/", {"reason": "买错了"}, format="json")
    assert refund.status_code == 202 and refund.json() == {"status": "refunding"}
    out_refund_no = Refund.objects.get().out_refund_no
    assert fake_wechat.refunds[out_refund_no]["amount"]["refund"] == 9900

    headers, body = fake_wechat.complete_refund(out_refund_no)
    assert deliver(headers, body).status_code in (200, 204)
    assert client.get(f"/api/v1/orders/{order_no}/").json()["status"] == "refunded"
    assert test_items.revoked == [(order_no, out_refund_no)]


def test_order_detail_queries_wechat_when_notification_is_late(buyer, fake_wechat, test_items):
    give_openid(buyer)
    client = api_client(buyer)
    order_no = client.post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    ).json()["order_no"]
    fake_wechat.pay(Payment.objects.get().out_trade_no)  # paid, but the notification never arrives

    assert client.get(f"/api/v1/orders/{order_no}/").json()["status"] == "paid"
    assert test_items.fulfilled == [order_no]


def test_native_and_h5_channels_return_code_url_and_h5_url(buyer, fake_wechat):
    client = api_client(buyer)

    native = client.post(
        "/api/v1/orders/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_native"}, format="json"
    ).json()
    h5 = client.post(
        "/api/v1/orders/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_h5"}, format="json"
    ).json()

    assert native["payment"]["code_url"].startswith("weixin://wxpay/")
    assert h5["payment"]["h5_url"].startswith("https://wx.tenpay.com/")


def test_sandbox_channel_returns_cashier_url(buyer):
    body = (
        api_client(buyer)
        .post(
            "/api/v1/orders/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "sandbox"}, format="json"
        )
        .json()
    )

    out_trade_no = Payment.objects.get().out_trade_no
    assert body["payment"]["cashier_url"].endswith(f"/payments/sandbox/{out_trade_no}/")


def test_ios_miniprogram_virtual_item_is_refused_with_web_checkout_link(buyer, fake_wechat):
    give_openid(buyer)

    response = api_client(buyer).post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram", "platform": "ios"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ios_virtual_payment_unsupported"
    assert body["web_checkout_url"].endswith("/payments/checkout/?item_type=test_item&item_id=A")
    assert not Order.objects.exists()


def test_ios_miniprogram_may_buy_a_non_virtual_item(buyer, fake_wechat):
    give_openid(buyer)

    response = api_client(buyer).post(
        "/api/v1/orders/",
        {"item_type": PHYSICAL_ITEM, "item_id": "A", "channel": "wechat_miniprogram", "platform": "ios"},
        format="json",
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "payload,code",
    [
        ({"item_type": TEST_ITEM, "item_id": "NOPE", "channel": "sandbox"}, "item_unavailable"),
        ({"item_type": TEST_ITEM, "item_id": "OFF", "channel": "sandbox"}, "item_unavailable"),
        ({"item_type": "spaceship", "item_id": "1", "channel": "sandbox"}, "unknown_item_type"),
        ({"item_type": TEST_ITEM, "item_id": "A", "channel": "alipay"}, "invalid"),
        ({"item_type": TEST_ITEM, "channel": "sandbox"}, "invalid"),
    ],
)
def test_bad_order_requests_are_refused_and_create_nothing(buyer, payload, code):
    response = api_client(buyer).post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Order.objects.exists()


def test_miniprogram_order_without_openid_is_refused(buyer, fake_wechat):
    response = api_client(buyer).post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "openid_required"


def test_wechat_failure_on_prepay_answers_502_and_keeps_order_pending(buyer, fake_wechat):
    fake_wechat.pay_failures.append((500, {"code": "SYSTEM_ERROR", "message": "系统错误"}))

    response = api_client(buyer).post(
        "/api/v1/orders/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_native"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["code"] == "payment_unavailable" and response.json()["order_no"]
    assert Order.objects.get().status == Order.Status.PENDING
    assert Payment.objects.get().status == Payment.Status.FAILED


def test_unauthenticated_calls_get_401():
    from rest_framework.test import APIClient

    assert APIClient().post("/api/v1/orders/", {}, format="json").status_code == 401
    assert APIClient().get("/api/v1/orders/X/").status_code == 401


def test_another_users_order_is_404_on_get_and_refund(buyer, other_user, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    client = api_client(other_user)

    assert client.get(f"/api/v1/orders/{order.order_no}/").status_code == 404
    response = client.post(f"/api/v1/orders/{order.order_no}/refund/", {"reason": "x"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get("/api/v1/orders/NOPE123/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not Refund.objects.exists()


def test_refund_after_window_is_400_refund_window_closed(buyer):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=4))

    response = api_client(buyer).post(f"/api/v1/orders/{order.order_no}/refund/", {}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "refund_window_closed"
    assert not Refund.objects.exists()


def test_refund_window_comes_from_item_type(buyer):
    order = create_paid_order(user=buyer, item_type=PHYSICAL_ITEM, item_id="A")  # 7-day window
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=5))

    response = api_client(buyer).post(f"/api/v1/orders/{order.order_no}/refund/", {}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] in ("refunding", "refunded")


def test_sandbox_refund_via_api_is_refunded_and_twice_is_refused(
    buyer, test_items, django_capture_on_commit_callbacks
):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    client = api_client(buyer)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/api/v1/orders/{order.order_no}/refund/", {"reason": "不要了"}, format="json")
    second = client.post(f"/api/v1/orders/{order.order_no}/refund/", {"reason": "再退"}, format="json")

    assert first.status_code == 202
    assert second.status_code == 409 and second.json()["code"] in ("already_refunded", "refund_in_progress")
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED
    assert len(test_items.revoked) == 1


def test_refund_endpoint_is_throttled_with_scope_refund(buyer, throttle_rates):
    throttle_rates(refund="2/min")
    client = api_client(buyer)
    codes = [client.post("/api/v1/orders/NOPE/refund/", {}, format="json").status_code for _ in range(3)]
    assert codes == [404, 404, 429]


def test_my_orders_list_has_fixed_query_count(buyer, django_assert_max_num_queries):
    for item in ("A", "B"):
        create_paid_order(user=buyer, item_type=TEST_ITEM, item_id=item)
    client = api_client(buyer)

    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/orders/").json()

    assert body["count"] == 2 and [r["item_id"] for r in body["results"]] == ["B", "A"]


def test_the_member_cancels_an_unpaid_order_and_wechat_closes_it_first(buyer, other_user, fake_wechat):
    """取消订单 (what a membership_order_pending refusal asks of the member): closed at WeChat, then here."""
    give_openid(buyer)
    client = api_client(buyer)
    order_no = client.post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    ).json()["order_no"]
    out_trade_no = Payment.objects.get(order__order_no=order_no).out_trade_no

    stranger = api_client(other_user).post(f"/api/v1/orders/{order_no}/close/")
    assert stranger.status_code == 404 and Order.objects.get(order_no=order_no).status == Order.Status.PENDING

    closed = client.post(f"/api/v1/orders/{order_no}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert fake_wechat.transactions[out_trade_no]["trade_state"] == "CLOSED"
    assert Payment.objects.get(out_trade_no=out_trade_no).status == Payment.Status.CLOSED
    again = client.post(f"/api/v1/orders/{order_no}/close/")
    assert again.status_code == 409 and again.json()["code"] == "order_not_pending"


def test_an_order_paid_before_the_cancel_reached_wechat_stays_paid(buyer, fake_wechat, test_items):
    give_openid(buyer)
    client = api_client(buyer)
    order_no = client.post(
        "/api/v1/orders/",
        {"item_type": TEST_ITEM, "item_id": "A", "channel": "wechat_miniprogram"},
        format="json",
    ).json()["order_no"]
    fake_wechat.pay(Payment.objects.get(order__order_no=order_no).out_trade_no)  # notification not here yet

    answer = client.post(f"/api/v1/orders/{order_no}/close/")
    assert answer.status_code == 200 and answer.json()["status"] == "paid"
    assert Order.objects.get(order_no=order_no).status == Order.Status.PAID
