"""WeChat Pay calls reuse one kept-alive connection per thread (wechatpayv3 alone opens one per call)."""

from __future__ import annotations

import pytest

from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from tests.payments.catalog import TEST_ITEM

pytestmark = pytest.mark.django_db


def test_successive_wechatpay_calls_share_one_connection(buyer, fake_wechat):
    from wechatpayv3 import core

    orders = [
        # a third unpaid order for one item would be refused (MAX_PENDING_ORDERS_PER_ITEM)
        order_create(user=buyer, item_type=TEST_ITEM, item_id=item_id, channel="wechat_native")
        for item_id in ("A", "B", "A")
    ]
    payment_start(order=orders[0])  # builds the client: the SDK now calls through sessions
    session = core.requests._session()
    pools = session.get_adapter(fake_wechat.url).poolmanager.pools
    opened_before = sum(pool.num_connections for pool in pools._container.values())

    for order in orders[1:]:
        assert payment_start(order=order).client_params["code_url"]

    opened = sum(pool.num_connections for pool in pools._container.values()) - opened_before
    assert opened_before >= 1, "the first call opened no connection: the test measures nothing"
    assert opened == 0, f"{opened} new connection(s) for 2 calls to the same gateway"
