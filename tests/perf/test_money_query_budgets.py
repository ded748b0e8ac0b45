"""Statement budgets of the money hot paths: order creation (API.md row 4) and WeChat Pay notifications.

bench/bench_api.py and bench/bench_notifications.py time these paths; here their SQL statement counts
are pinned, so a change that adds a read or a savepoint to them fails a test instead of a benchmark.
The budgets are the counts measured when they were set; lower them when you remove statements.

- fresh notification: store with its dedup verdict (1 INSERT … SELECT, committed) · BEGIN · lock the
  order (1) · lock the payment (1) · mark the payment succeeded (1) · audit row + order update (2) ·
  the members points listener: lock the account, insert the entry, update the balance (3) · claim
  the notification id (1) · COMMIT.
- duplicate notification (WeChat's retry): 1 INSERT storing it that finds it already handled.
- order creation (force-authenticated, so no JWT user read): tier, current membership, referral
  binding, promoter prices, running flash sale · BEGIN, order, audit row, COMMIT · payer openid · payment attempt ·
  prepay result.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import PointsAccount, PointsEntry
from payments.models import Order, Payment, PaymentNotification
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from tests.payments.catalog import TEST_ITEM
from tests.payments.wechat_support import api_client, deliver, give_openid

pytestmark = pytest.mark.django_db

# Plain ORM for the payment since issue 17 (no hand-built Payment): one statement more for a fresh one.
# The notification is stored by one INSERT that works out its own dedup verdict.
FRESH_NOTIFICATION = 12
DUPLICATE_NOTIFICATION = 1
# 11 before issue 15, plus: the buyer's unpaid orders for the item (a third is refused), and the
# rep of record at checkout (has a rep already? an open lead? — one statement,
# referrals/sales_credit.py `_rep_facts`); the bound referrer is read once for both the referrer
# and the rep (referrals/order_quote.py). Issue 20: the item's running flash sale, if any (one indexed
# read, growth/flash_sales/pricing.py); an order not priced by a sale reads no hold when it is paid.
ORDER_CREATE = 14


@pytest.fixture(autouse=True)
def _test_items(settings, tmp_path_factory):
    from tests.payments.catalog import register_test_items

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    log, unregister = register_test_items()
    yield log
    unregister()


@pytest.fixture
def buyer(db):
    from tests.factories import UserFactory

    user = UserFactory()
    PointsAccount.objects.create(user=user)  # a returning buyer: purchases earn points
    return user


def counted(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [q["sql"] for q in captured.captured_queries]


def test_fresh_and_duplicate_notifications_stay_within_their_budgets(buyer, fake_wechat, _test_items):
    def pending_payment():
        order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
        return order, payment_start(order=order)

    deliver(*fake_wechat.pay(pending_payment()[1].out_trade_no))  # warm: first-use caches, clients
    order, payment = pending_payment()
    headers, body = fake_wechat.pay(payment.out_trade_no)

    fresh, fresh_sql = counted(lambda: deliver(headers, body))
    duplicate, duplicate_sql = counted(lambda: deliver(headers, body))

    assert fresh.status_code == 204 and duplicate.status_code in (200, 204)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert _test_items.paid_listener.count(order.order_no) == 1
    assert PointsEntry.objects.filter(idempotency_key=f"order-paid:{order.order_no}").count() == 1
    notes = PaymentNotification.objects.filter(out_trade_no=payment.out_trade_no).order_by("pk")
    assert [n.outcome for n in notes] == ["processed", "duplicate"]
    assert len(fresh_sql) <= FRESH_NOTIFICATION, "\n".join(fresh_sql)
    assert len(duplicate_sql) <= DUPLICATE_NOTIFICATION, "\n".join(duplicate_sql)


def test_membership_order_creation_stays_within_its_budget(buyer, fake_wechat):
    from tests.courses.factories import vip_tier

    vip_tier()
    give_openid(buyer)
    client = api_client(buyer)
    payload = {"item_type": "membership", "item_id": "VIP", "channel": "wechat_miniprogram"}
    assert client.post("/api/v1/orders/", payload, format="json").status_code == 201  # warm

    response, sql = counted(lambda: client.post("/api/v1/orders/", payload, format="json"))

    assert response.status_code == 201, response.json()
    assert response.json()["payment"]["paySign"]
    print("\n".join(sql))
    assert len(sql) <= ORDER_CREATE, "\n".join(sql)
