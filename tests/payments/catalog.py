"""A test item type, registered only in tests, so payments is testable without the apps above it.

Other apps' tests may use it too: `from tests.payments.catalog import TEST_ITEM, register_test_items`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from payments import items

TEST_ITEM = "test_item"
PHYSICAL_ITEM = "test_physical"


@dataclass
class CallLog:
    fulfilled: list[str] = field(default_factory=list)
    revoked: list[tuple[str, str]] = field(default_factory=list)
    paid_listener: list[str] = field(default_factory=list)
    refunded_listener: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, value) -> None:
        with self.lock:
            getattr(self, name).append(value)


class TestItemType(items.ItemType):
    """Catalogue: "A" ¥99, "B" ¥3,600 with a ¥360 member discount line, "FREE" ¥0; "OFF" is not for sale."""

    __test__ = False  # not a pytest class
    code = TEST_ITEM
    label = "测试商品"
    refund_window = timedelta(days=3)
    integer_ids = False
    prices = {"A": 9900, "B": 360000, "FREE": 0, "OFF": 100}

    def __init__(self, log: CallLog):
        self.log = log

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        if item_id not in self.prices or item_id == "OFF":
            raise items.ItemUnavailable()
        quote = items.Quote(
            title=f"测试商品 {item_id}", list_price_fen=self.prices[item_id], context={"sku": item_id}
        )
        if item_id == "B":
            quote = quote.with_line("会员折扣", -36000)
        if item_id == "FREE":
            quote = items.Quote(title="免费商品", list_price_fen=100).with_line("全额抵扣", -100)
        return quote

    def fulfill(self, *, order) -> None:
        self.log.record("fulfilled", order.order_no)

    def revoke(self, *, order, refund) -> None:
        self.log.record("revoked", (order.order_no, refund.out_refund_no))


class PhysicalItemType(TestItemType):
    """Not virtual: allowed in the iOS mini-program; a 7-day refund window."""

    code = PHYSICAL_ITEM
    virtual = False
    refund_window = timedelta(days=7)


def register_test_items() -> tuple[CallLog, callable]:
    """Register the test item types and listeners; returns (log, unregister)."""
    log = CallLog()

    def on_paid(order):
        log.record("paid_listener", order.order_no)

    def on_refunded(order, refund):
        log.record("refunded_listener", (order.order_no, refund.out_refund_no))

    items.register(TestItemType(log))
    items.register(PhysicalItemType(log))
    items.on_paid(on_paid)
    items.on_refunded(on_refunded)

    def unregister():
        items._registry.pop(TEST_ITEM, None)
        items._registry.pop(PHYSICAL_ITEM, None)
        if on_paid in items._paid_listeners:
            items._paid_listeners.remove(on_paid)
        if on_refunded in items._refunded_listeners:
            items._refunded_listeners.remove(on_refunded)

    return log, unregister
