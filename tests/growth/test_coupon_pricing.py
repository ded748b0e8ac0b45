"""Coupons at checkout: what each kind takes off, on which price, for which items and members, and every
refusal a clear 400 with its own code that writes no order (and holds nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from growth.models import Coupon, MemberCoupon
from payments import items
from payments.models import Order
from tests.courses.factories import give_tier, make_course, make_event, vip_tier
from tests.factories import UserFactory
from tests.growth.coupon_helpers import give, make_coupon, open_order

pytestmark = pytest.mark.django_db


def price(user, course, code: str) -> items.Quote:
    return items.quote(user=user, item_type="course", item_id=str(course.pk), coupon_code=code)


def test_an_amount_coupon_takes_its_amount_off_as_a_named_line():
    member, course = UserFactory(), make_course(price_fen=19_900)
    copy = give(make_coupon(name="新人券", amount_off_fen=5_000), member)
    quote = price(member, course, copy.code)
    assert quote.amount_fen == 14_900 and quote.discount_fen == 5_000
    assert (quote.lines[-1].label, quote.lines[-1].amount_fen) == ("优惠券：新人券", -5_000)
    assert quote.context["coupon_id"] == copy.coupon_id and quote.context["member_coupon_id"] == copy.pk
    # Its id works as well as its code (what the mini-program sends from GET /api/v1/coupons/mine/).
    assert price(member, course, str(copy.pk)).amount_fen == 14_900


@pytest.mark.parametrize(
    ("bp", "cap", "expected_off"),
    [
        (2_000, 0, 3_980),  # 八折 on ¥199
        (2_000, 3_000, 3_000),  # capped at ¥30
        (3_333, 0, 6_632),  # floors: 19900 × 0.3333 = 6632.67
        (10_000, 0, 19_900),  # everything: a zero total, never negative
    ],
)
def test_a_percent_coupon_floors_is_capped_and_never_goes_below_zero(bp, cap, expected_off):
    member, course = UserFactory(), make_course(price_fen=19_900)
    coupon = make_coupon(kind=Coupon.Kind.PERCENT, amount_off_fen=0, percent_off_bp=bp, cap_fen=cap)
    quote = price(member, course, give(coupon, member).code)
    assert quote.discount_fen == expected_off and quote.amount_fen == 19_900 - expected_off >= 0


def test_an_amount_larger_than_the_price_makes_a_free_order_paid_at_once_and_uses_the_coupon():
    member, course = UserFactory(), make_course(price_fen=3_000)
    copy = give(make_coupon(amount_off_fen=5_000), member)
    order = open_order(member, "course", course.pk, copy.code)
    assert order.amount_fen == 0 and order.discount_fen == 3_000 and order.status == Order.Status.PAID
    copy.refresh_from_db()
    assert copy.state == MemberCoupon.State.USED and copy.redemptions.get().order == order
    assert course.enrolments.filter(user=member).exists()


def test_a_coupon_applies_last_on_the_tier_price_and_its_minimum_is_measured_there():
    vip = vip_tier()  # 10 % off single purchases for VIP members
    member, course = UserFactory(), make_course(price_fen=20_000)
    give_tier(member, vip)
    coupon = make_coupon(
        kind=Coupon.Kind.PERCENT, amount_off_fen=0, percent_off_bp=1_000, min_spend_fen=18_000
    )
    copy = give(coupon, member)
    quote = price(member, course, copy.code)
    assert [line.amount_fen for line in quote.lines] == [-2_000, -1_800]  # 10 % of 18,000, not of 20,000
    assert quote.amount_fen == 16_200
    coupon.min_spend_fen = 18_001
    coupon.save()
    with pytest.raises(ApplicationError) as refused:
        price(member, course, copy.code)
    assert refused.value.code == "coupon_below_minimum"


def test_a_non_stackable_coupon_is_refused_on_a_discounted_price_and_taken_on_a_plain_one():
    vip = vip_tier()
    course = make_course(price_fen=20_000)
    coupon = make_coupon(stackable=False, per_member_limit=2)
    member, plain = UserFactory(), UserFactory()
    give_tier(member, vip)
    with pytest.raises(ApplicationError) as refused:
        price(member, course, give(coupon, member).code)
    assert refused.value.code == "coupon_not_stackable"
    assert price(plain, course, give(coupon, plain).code).amount_fen == 15_000


def test_scope_by_item_type_by_item_and_by_the_buyer_s_tier():
    vip = vip_tier()
    course, other, event = make_course(), make_course(title="另一门课"), make_event(price_fen=29_900)
    member = UserFactory()
    for_courses = make_coupon(item_types=["course"], per_member_limit=5)
    for_one = make_coupon(items=[f"course:{course.pk}"], per_member_limit=5)
    for_vip = make_coupon(tiers=["VIP"], per_member_limit=5)
    assert price(member, course, give(for_courses, member).code).discount_fen == 5_000
    for coupon, item_type, item_id in ((for_courses, "event", event.pk), (for_one, "course", other.pk)):
        with pytest.raises(ApplicationError) as refused:
            items.quote(
                user=member,
                item_type=item_type,
                item_id=str(item_id),
                coupon_code=give(coupon, member, key=f"{item_type}{item_id}").code,
            )
        assert refused.value.code == "coupon_not_applicable"
    vip_copy = give(for_vip, member)
    with pytest.raises(ApplicationError) as refused:
        price(member, course, vip_copy.code)
    assert refused.value.code == "coupon_not_applicable"
    give_tier(member, vip)
    assert price(member, course, vip_copy.code).lines[-1].amount_fen == -5_000


def test_the_window_a_fixed_one_or_n_days_after_issue():
    member, course = UserFactory(), make_course()
    now = timezone.now()
    later = make_coupon(starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=9))
    with pytest.raises(ApplicationError) as refused:
        price(member, course, give(later, member).code)
    assert refused.value.code == "coupon_not_started"
    three_days = make_coupon(valid_days=3)
    copy = give(three_days, member)
    assert copy.valid_until - copy.valid_from == timedelta(days=3)
    MemberCoupon.objects.filter(pk=copy.pk).update(valid_until=now - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as refused:
        price(member, course, copy.code)
    assert refused.value.code == "coupon_expired"


def test_a_public_code_issues_a_copy_with_the_order_and_respects_the_per_member_limit():
    member, course = UserFactory(), make_course(price_fen=19_900)
    make_coupon(code="SPRING50", per_member_limit=1)
    order = open_order(member, "course", course.pk, " spring50 ")
    assert order.amount_fen == 14_900 and order.status == Order.Status.PENDING
    copy = MemberCoupon.objects.get(user=member)
    assert copy.source == MemberCoupon.Source.PUBLIC_CODE and copy.held_by == order
    assert order.context["member_coupon_id"] == copy.pk
    with pytest.raises(ApplicationError) as refused:  # held by the first order: the limit of 1 is taken
        open_order(member, "course", course.pk, "SPRING50")
    assert refused.value.code in ("coupon_used", "coupon_exhausted")
    assert Order.objects.filter(user=member).count() == 1


REFUSALS = [
    ("coupon_invalid", lambda member, other, course: "NOSUCHCODE"),
    ("coupon_invalid", lambda member, other, course: "9" * 30),  # digits past any id: no database error
    ("coupon_invalid", lambda member, other, course: give(make_coupon(), other).code),  # not the caller's
    ("coupon_not_applicable", lambda m, o, c: give(make_coupon(item_types=["event"]), m).code),
    (
        "coupon_expired",
        lambda m, o, c: give(make_coupon(ends_at=timezone.now() + timedelta(seconds=1)), m, key="x").code,
    ),
    ("coupon_below_minimum", lambda m, o, c: give(make_coupon(min_spend_fen=50_000), m).code),
    ("coupon_exhausted", lambda m, o, c: give(make_coupon(total_limit=0), m).code),
    ("coupon_used", lambda m, o, c: _used_copy(m).code),
    ("coupon_not_stackable", lambda m, o, c: _vip_with_non_stackable(m)),
]


def _used_copy(member):
    copy = give(make_coupon(), member, key="used")
    MemberCoupon.objects.filter(pk=copy.pk).update(state=MemberCoupon.State.USED)
    return copy


def _vip_with_non_stackable(member):
    give_tier(member, vip_tier())
    return give(make_coupon(stackable=False), member).code


@pytest.mark.parametrize(("code", "make"), REFUSALS, ids=[r[0] + str(i) for i, r in enumerate(REFUSALS)])
def test_each_refusal_is_a_400_with_its_code_and_writes_no_order(code, make):
    from rest_framework.test import APIClient

    member, other, course = UserFactory(), UserFactory(), make_course(price_fen=19_900)
    coupon_code = make(member, other, course)
    if code == "coupon_expired":
        MemberCoupon.objects.filter(code=coupon_code).update(
            valid_until=timezone.now() - timedelta(seconds=1)
        )
    client = APIClient()
    client.force_authenticate(member)
    held_before = MemberCoupon.objects.filter(state=MemberCoupon.State.HELD).count()
    response = client.post(
        "/api/v1/orders/",
        {"item_type": "course", "item_id": str(course.pk), "channel": "sandbox", "coupon_code": coupon_code},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not Order.objects.filter(user=member).exists()
    assert MemberCoupon.objects.filter(state=MemberCoupon.State.HELD).count() == held_before


def test_the_order_api_answers_discount_fen_and_amount_fen_is_what_wechat_is_asked_for():
    from rest_framework.test import APIClient

    member, course = UserFactory(), make_course(price_fen=19_900)
    copy = give(make_coupon(amount_off_fen=4_900), member)
    client = APIClient()
    client.force_authenticate(member)
    response = client.post(
        "/api/v1/orders/",
        {"item_type": "course", "item_id": str(course.pk), "channel": "sandbox", "coupon_code": copy.code},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount_fen"], body["discount_fen"], body["status"]) == (15_000, 4_900, "pending")
    order = Order.objects.get(order_no=body["order_no"])
    assert order.payments.get().amount_fen == 15_000
    copy.refresh_from_db()
    assert copy.state == MemberCoupon.State.HELD and copy.held_by == order
