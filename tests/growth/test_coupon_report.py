"""A coupon's line in /ops/ 增长活动: the paid orders its copies were used on, GMV at the discounted
price, the discount it gave, their refunds and the commission paid on them — the rate times the price
actually paid, as the ledger has it."""

from __future__ import annotations

import pytest

from core.money import apply_bp
from growth.coupons.selectors import coupon_orders
from insights.periods import parse_period
from insights.selectors import dashboard_table
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.coupon_helpers import give, make_coupon, open_order
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as referral_f

pytestmark = pytest.mark.django_db


def test_a_coupon_row_counts_its_orders_discount_refunds_and_commission():
    course = make_course(price_fen=19_900)
    coupon = make_coupon(amount_off_fen=4_900)
    promoter, referred, other, idle = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    referral_f.rule(item_type="course", rate_bp=1_500)
    referral_f.bind(referred, promoter)
    for buyer in (referred, other):
        copy = give(coupon, buyer)
        create_paid_order(user=buyer, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    open_order(idle, "course", course.pk, coupon_code=give(coupon, idle).code)  # held, never paid
    refund_order(order=coupon_orders(coupon).get(user=other))

    table = dashboard_table("promotion_coupons", parse_period({"range": "30d"}))

    row = next(row for row in table.rows if row["id"] == coupon.pk)
    assert row["orders"] == 2 and row["gmv"] == 2 * 15_000 and row["discount"] == 2 * 4_900
    assert row["refunds"] == 15_000
    assert row["commission"] == apply_bp(15_000, 1_500)  # on what was paid, not the list price
