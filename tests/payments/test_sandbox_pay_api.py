"""POST /api/v1/orders/{no}/sandbox-pay/: the mini-program's sandbox stand-in for wx.requestPayment, in
development only (404 when PAYMENTS_SANDBOX_ENABLED is off, as production forces)."""

from __future__ import annotations

from payments.models import Order
from tests.payments.catalog import TEST_ITEM
from tests.payments.wechat_support import api_client


def _sandbox_order(user) -> str:
    created = api_client(user).post(
        "/api/v1/orders/", {"item_type": TEST_ITEM, "item_id": "A", "channel": "sandbox"}, format="json"
    )
    assert created.status_code == 201, created.content
    return created.json()["order_no"]


def test_sandbox_pay_pays_the_order_through_the_notification_path(buyer, test_items):
    order_no = _sandbox_order(buyer)
    response = api_client(buyer).post(f"/api/v1/orders/{order_no}/sandbox-pay/")
    assert response.status_code == 200, response.content
    assert response.json() == {"order_no": order_no, "status": "paid"}
    assert Order.objects.get(order_no=order_no).status == Order.Status.PAID
    again = api_client(buyer).post(f"/api/v1/orders/{order_no}/sandbox-pay/")
    assert again.json()["status"] == "paid"  # idempotent: paying twice changes nothing


def test_someone_elses_order_is_not_found(buyer, other_user):
    order_no = _sandbox_order(buyer)
    response = api_client(other_user).post(f"/api/v1/orders/{order_no}/sandbox-pay/")
    assert response.status_code == 404
    assert Order.objects.get(order_no=order_no).status == Order.Status.PENDING


def test_refused_when_the_sandbox_is_off(buyer, settings):
    order_no = _sandbox_order(buyer)
    settings.PAYMENTS_SANDBOX_ENABLED = False
    response = api_client(buyer).post(f"/api/v1/orders/{order_no}/sandbox-pay/")
    assert response.status_code == 404
    assert Order.objects.get(order_no=order_no).status == Order.Status.PENDING


def test_anonymous_callers_are_refused(buyer):
    from rest_framework.test import APIClient

    order_no = _sandbox_order(buyer)
    assert APIClient().post(f"/api/v1/orders/{order_no}/sandbox-pay/").status_code == 401
