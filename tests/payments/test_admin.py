"""Operators find orders and refund them (full or partial) from admin; money records are read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import AuditLog
from payments.models import Order, Refund
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_search_by_order_no_out_trade_no_and_transaction_id(admin_client, buyer, fake_wechat):
    order = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    other = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="B")
    payment = order.payments.get()

    for term in (order.order_no, payment.out_trade_no, payment.transaction_id):
        page = admin_client.get("/admin/payments/order/", {"q": term}).content.decode()
        assert order.order_no in page and other.order_no not in page, term
    page = admin_client.get("/admin/payments/order/", {"status__exact": "paid", "channel__exact": "sandbox"})
    assert other.order_no in page.content.decode() and order.order_no not in page.content.decode()


def test_partial_then_full_refund_from_admin_with_audit(
    admin_client, operator, buyer, test_items, django_capture_on_commit_callbacks
):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    url = f"/admin/payments/order/{order.pk}/refund/"
    assert "可退" in admin_client.get(url).content.decode()

    bad = admin_client.post(url, {"amount_yuan": "100", "reason": "超额"})
    assert bad.status_code == 200 and not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"amount_yuan": "9.50", "reason": "部分不满意"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED and order.refunded_fen == 950

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/payments/order/", {"action": "refund_full", "_selected_action": [order.pk]}, follow=True
        )
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_fen == 9900
    assert len(test_items.revoked) == 2
    audits = AuditLog.objects.filter(action="order_refund", target_id=str(order.pk))
    assert audits.count() == 2 and all(a.actor_id == operator.pk for a in audits)


def test_admin_pages_render(admin_client, buyer):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    for path in (
        "/admin/payments/order/",
        f"/admin/payments/order/{order.pk}/change/",
        "/admin/payments/payment/",
        "/admin/payments/refund/",
        "/admin/payments/paymentnotification/",
        "/admin/payments/reconciliationrun/",
        "/admin/payments/reconciliationmismatch/",
    ):
        assert admin_client.get(path).status_code == 200, path
    assert admin_client.post(f"/admin/payments/order/{order.pk}/delete/").status_code == 403


def test_non_staff_cannot_refund(buyer):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    client = Client()
    client.force_login(buyer)

    response = client.post(f"/admin/payments/order/{order.pk}/refund/", {"reason": "x"})

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Refund.objects.exists()
