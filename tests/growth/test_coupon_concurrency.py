"""Coupons raced on real PostgreSQL: a per-member limit of 1 in two concurrent orders gives one
discounted order (the other a 400 and no order); a total limit raced by 20 members gives exactly the
limit; the copies not held stay available."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from growth.models import MemberCoupon
from payments.models import Order
from tests.concurrency import run_together
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.coupon_helpers import give, make_coupon, open_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcomes(results):
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(orders) + len(refused) == len(results), results  # nothing else (no 500s)
    return orders, refused


def test_one_copy_in_two_concurrent_orders_discounts_one():
    member = UserFactory()
    course = make_course(price_fen=19_900)
    copy = give(make_coupon(per_member_limit=1), member)
    results = run_together([lambda: open_order(member, "course", course.pk, copy.code) for _i in range(2)])
    orders, refused = outcomes(results)
    assert len(orders) == 1 and len(refused) == 1, results
    assert refused[0].status_code == 400 and refused[0].code in ("coupon_used", "coupon_exhausted")
    assert Order.objects.filter(user=member).count() == 1 and orders[0].discount_fen == 5_000
    copy.refresh_from_db()
    assert copy.state == MemberCoupon.State.HELD and copy.held_by_id == orders[0].pk


def test_a_public_code_with_per_member_limit_1_in_two_concurrent_orders_discounts_one():
    member = UserFactory()
    course = make_course(price_fen=19_900)
    make_coupon(code="ONCE", per_member_limit=1)
    results = run_together([lambda: open_order(member, "course", course.pk, "ONCE") for _i in range(2)])
    orders, refused = outcomes(results)
    assert len(orders) == 1 and len(refused) == 1, results
    assert refused[0].code == "coupon_exhausted"
    assert MemberCoupon.objects.filter(user=member).count() == 1
    assert Order.objects.filter(user=member).count() == 1


def test_a_total_limit_raced_by_twenty_members_gives_exactly_the_limit():
    course = make_course(price_fen=19_900)
    coupon = make_coupon(total_limit=5, per_member_limit=1)
    members = [UserFactory() for _i in range(20)]
    copies = [give(coupon, member) for member in members]
    results = run_together(
        [
            lambda m=m, c=c: open_order(m, "course", course.pk, c.code)
            for m, c in zip(members, copies, strict=True)
        ]
    )
    orders, refused = outcomes(results)
    assert len(orders) == 5 and len(refused) == 15, results
    assert {r.code for r in refused} == {"coupon_exhausted"}
    assert MemberCoupon.objects.filter(coupon=coupon, state=MemberCoupon.State.HELD).count() == 5
    assert MemberCoupon.objects.filter(coupon=coupon, state=MemberCoupon.State.AVAILABLE).count() == 15
    assert Order.objects.count() == 5
