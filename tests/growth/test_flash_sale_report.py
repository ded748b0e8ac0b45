"""A flash sale's line in /ops/ 增长活动: its paid orders, GMV at the sale price, the discount against the
list price and refunds, by the dashboard's definitions; a unit held by an unpaid order brings nothing."""

from __future__ import annotations

import pytest

from insights.periods import parse_period
from insights.selectors import dashboard_table
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.flash_helpers import buy, make_sale, open_order
from tests.payments.helpers import refund_order

pytestmark = pytest.mark.django_db


def test_a_sale_row_counts_paid_orders_at_the_sale_price_and_their_refunds():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, sale_price_fen=9_900, stock=5)
    first = buy(user=UserFactory(), item_id=course.pk)
    buy(user=UserFactory(), item_id=course.pk)
    open_order(user=UserFactory(), item_id=course.pk)  # holds a unit, never paid
    refund_order(order=first)

    table = dashboard_table("promotion_flash_sales", parse_period({"range": "30d"}))

    row = next(row for row in table.rows if row["id"] == sale.pk)
    assert row["name"] == sale.name and course.title in row["item_title"]
    assert row["orders"] == 2 and row["gmv"] == 2 * 9_900
    assert row["discount"] == 2 * 10_000 and row["refunds"] == 9_900
