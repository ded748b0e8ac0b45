"""A coupon through an order's life: held while the order can be paid, given back when it closes unpaid
(the sweep, the member's 取消订单), used when it is paid, and returned by a full refund only while it is
still valid; commissions follow the price actually paid; a camp graduation gives its coupon once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from core.errors import ApplicationError
from core.money import apply_bp
from growth.coupons.selectors import coupon_orders
from growth.models import CouponRedemption, MemberCoupon
from payments import items
from payments.models import Order
from payments.orders.payment_attempts import order_cancel_by_member, payment_start
from payments.orders.sweeps import orders_sweep
from referrals.models import Commission
from tests.courses.factories import make_camp, make_course
from tests.factories import UserFactory
from tests.growth.coupon_helpers import give, make_coupon, open_order
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as referral_f

pytestmark = pytest.mark.django_db
S = MemberCoupon.State


def state(copy: MemberCoupon) -> str:
    copy.refresh_from_db()
    return copy.state


def test_the_sweep_closing_an_unpaid_order_gives_the_coupon_back():
    member, course = UserFactory(), make_course()
    copy = give(make_coupon(), member)
    order = open_order(member, "course", course.pk, copy.code)
    assert state(copy) == S.HELD
    with TestCase.captureOnCommitCallbacks(execute=True):
        orders_sweep(now=order.expires_at + timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED and state(copy) == S.AVAILABLE
    # and it works again, on a new order
    assert open_order(member, "course", course.pk, copy.code).discount_fen == 5_000


def test_the_member_cancelling_an_unpaid_order_gives_the_coupon_back():
    member, course = UserFactory(), make_course()
    copy = give(make_coupon(), member)
    order = open_order(member, "course", course.pk, copy.code)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payment_start(order=order, channel="sandbox")
        order_cancel_by_member(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED and state(copy) == S.AVAILABLE and copy.held_by is None


def test_paying_uses_the_coupon_once_and_reports_read_its_orders():
    member, course = UserFactory(), make_course(price_fen=19_900)
    coupon = make_coupon(amount_off_fen=4_900)
    copy = give(coupon, member)
    order = create_paid_order(user=member, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    assert order.amount_fen == 15_000 and state(copy) == S.USED
    redemption = CouponRedemption.objects.get()
    assert (redemption.order, redemption.discount_fen, redemption.coupon) == (order, 4_900, coupon)
    assert list(coupon_orders(coupon)) == [order]
    with pytest.raises(ApplicationError) as refused:
        items.quote(user=member, item_type="course", item_id=str(make_course().pk), coupon_code=copy.code)
    assert refused.value.code == "coupon_used"


def test_a_full_refund_inside_the_window_returns_the_coupon():
    member, course = UserFactory(), make_course()
    copy = give(make_coupon(valid_days=30), member)
    order = create_paid_order(user=member, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    terms = [term.text for term in items.refund_terms(order=order, amount_fen=order.amount_fen)]
    assert any("将退回" in text for text in terms)
    refund_order(order=order)
    assert order.status == Order.Status.REFUNDED and state(copy) == S.AVAILABLE
    assert CouponRedemption.objects.get(order=order).returned_at is not None
    assert list(coupon_orders(copy.coupon)) == [order]  # the refunded order stays in the coupon's report


def test_a_full_refund_after_the_coupon_expired_keeps_it_used():
    member, course = UserFactory(), make_course()
    copy = give(make_coupon(valid_days=30), member)
    order = create_paid_order(user=member, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    MemberCoupon.objects.filter(pk=copy.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    terms = [term.text for term in items.refund_terms(order=order, amount_fen=order.amount_fen)]
    assert any("不退回" in text for text in terms)
    refund_order(order=order)
    assert order.status == Order.Status.REFUNDED and state(copy) == S.USED


def test_a_partial_refund_keeps_the_coupon_used():
    member, course = UserFactory(), make_course(price_fen=19_900)
    copy = give(make_coupon(), member)
    order = create_paid_order(user=member, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    refund_order(order=order, amount_fen=1_000)
    assert order.status == Order.Status.PARTIALLY_REFUNDED and state(copy) == S.USED


def test_a_discounted_order_s_commission_is_the_rate_times_what_was_paid(settings, tmp_path_factory):
    promoter, buyer, course = UserFactory(), UserFactory(), make_course(price_fen=19_900)
    referral_f.rule(item_type="course", rate_bp=1_500)
    referral_f.bind(buyer, promoter)
    copy = give(make_coupon(amount_off_fen=3_333), buyer)
    order = create_paid_order(user=buyer, item_type="course", item_id=str(course.pk), coupon_code=copy.code)
    assert order.amount_fen == 16_567 and order.referrer == promoter
    commission = Commission.objects.get(order=order)
    assert commission.amount_fen == apply_bp(16_567, 1_500) == 2_485  # not 15 % of the list price


def test_a_camp_graduation_gives_the_graduation_coupon_once_per_term():
    from courses.camps.checkins import seat_recompute
    from courses.models import CheckIn, TermSeat

    make_coupon(name="结营礼券", auto_issue_on="camp_completed", per_member_limit=5, valid_days=30)
    member = UserFactory()
    camp, term = make_camp(days=2, started_days_ago=1, price_fen=0)
    seat = TermSeat.objects.create(term=term, user=member, source="free")
    for task in camp.tasks.order_by("day")[:2]:
        CheckIn.objects.create(
            seat=seat, term=term, user=member, task=task, day=term.date_of_day(task.day), text="打卡"
        )
    seat_recompute(seat)
    seat.refresh_from_db()
    assert seat.completed_at is not None
    copy = MemberCoupon.objects.get(user=member)
    assert (copy.source, copy.source_key, copy.coupon.name) == ("event", f"camp-term-{term.pk}", "结营礼券")
    seat_recompute(seat)  # recomputed again (a moderated check-in): no second coupon
    assert MemberCoupon.objects.filter(user=member).count() == 1


def test_issuing_is_idempotent_per_source_key_and_respects_the_limits():
    from growth.coupons.issuing import coupon_issue

    coupon = make_coupon(per_member_limit=1, issue_limit=2)
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    first = coupon_issue(
        coupon=coupon, users=[a, b, c], source="campaign", actor=None, source_key="campaign-7"
    )
    assert (len(first.issued), first.refused) == (2, 1)  # the issue limit of 2
    again = coupon_issue(
        coupon=coupon, users=[a, b, c], source="campaign", actor=None, source_key="campaign-7"
    )
    assert (len(again.issued), again.already) == (0, 2)
    assert MemberCoupon.objects.filter(coupon=coupon).count() == 2


def test_an_upgrade_credits_what_the_coupon_order_paid_not_the_list_price():
    from tests.courses.factories import ka_tier, vip_tier

    vip, _ka = vip_tier(), ka_tier()
    member = UserFactory()
    copy = give(make_coupon(amount_off_fen=60_000, item_types=["membership"]), member)
    order = create_paid_order(user=member, item_type="membership", item_id="VIP", coupon_code=copy.code)
    assert order.amount_fen == vip.price_fen - 60_000

    upgrade = items.quote(user=member, item_type="membership", item_id="KA")

    credit = -sum(line.amount_fen for line in upgrade.lines)
    assert 0 < credit <= order.amount_fen  # the discount is nobody's money to credit
