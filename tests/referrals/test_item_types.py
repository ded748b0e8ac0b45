"""Commission for every item type sold through payments, with and without level 2, voided on refund."""

from __future__ import annotations

import pytest

from circles.services import posts as post_services
from circles.services import questions as question_services
from circles.services import tips as tip_services
from payments import items
from payments.orders.checkout import order_create_free
from payments.wallet import ledger
from referrals import group_buys
from referrals.models import Commission
from tests.circles import factories as circle_f
from tests.courses import factories as course_f
from tests.factories import TierFactory, UserFactory
from tests.payments.catalog import PHYSICAL_ITEM, TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as f

pytestmark = pytest.mark.django_db

RATE_L1, RATE_L2 = 1000, 300

# Item types that are only ever given away (never paid): no sale, no commission by construction.
GIVEAWAY_ONLY = {"membership_days"}


def make_item(item_type: str, buyer) -> str:
    """Something of `item_type` that `buyer` can pay for right now; returns its item id."""
    if item_type == "membership":
        TierFactory(code="VIP", price_fen=360_000)
        return "VIP"
    if item_type == "course":
        return str(course_f.make_course(price_fen=19_900).pk)
    if item_type == "event":
        return str(course_f.make_event(price_fen=29_900).pk)
    if item_type == "camp":
        _camp, term = course_f.make_camp(price_fen=9_900, started_days_ago=-3)
        return str(term.pk)
    if item_type == "circle":
        return str(circle_f.make_circle(price_fen=19_900).pk)
    if item_type in ("tip", "circle_question"):
        circle = circle_f.make_circle(price_fen=19_900)
        circle_f.make_member(circle=circle, user=buyer)
        if item_type == "tip":
            author = circle_f.make_member(circle=circle)
            post = post_services.post_create(
                circle=circle, author=author, title="干货", body="私域运营三板斧"
            )
            return str(tip_services.tip_intent_create(user=buyer, amount_fen=5_000, post=post).pk)
        guest = circle_f.make_guest(circle=circle)
        return str(
            question_services.paid_question_create(
                circle=circle, asker=buyer, guest=guest, body="如何定价？"
            ).pk
        )
    if item_type == "group_buy":
        offer = f.offer(item_type=TEST_ITEM, item_id="A", size=3, price_fen=5_000)
        return str(group_buys.group_buy_open(user=buyer, offer=offer).pk)
    if item_type in (TEST_ITEM, PHYSICAL_ITEM):
        return "A"
    raise AssertionError(f"no builder for item type {item_type!r}: add one so it is covered")


def sellable_types() -> list[str]:
    return sorted(set(items.registered()) - GIVEAWAY_ONLY)


def test_every_registered_item_type_has_a_builder():
    # a new item type appearing in the registry makes this test ask for coverage
    for item_type in sellable_types():
        if item_type in (TEST_ITEM, PHYSICAL_ITEM):
            continue
        assert item_type in {
            "membership",
            "course",
            "event",
            "camp",
            "circle",
            "tip",
            "circle_question",
            "group_buy",
        }, item_type


@pytest.mark.parametrize("level_two", [False, True], ids=["direct-only", "with-level-2"])
@pytest.mark.parametrize("item_type", sellable_types())
def test_commission_for_every_item_type(item_type, level_two, alice, bob, carol):
    # given A → B → C, rules for this item type, level 2 on or off
    f.bind(bob, alice)
    f.bind(carol, bob)
    f.rule(item_type=item_type, rate_bp=RATE_L1)
    f.rule(item_type=item_type, rate_bp=RATE_L2, level=2)
    if level_two:
        f.configure(commission_depth=2)
    item_id = make_item(item_type, carol)
    # when Carol pays for it
    order = create_paid_order(user=carol, item_type=item_type, item_id=item_id)
    assert order.amount_fen > 0
    # then Bob earns the direct rate, held for the item type's refund window
    window = items.get(item_type).refund_window_for(order=order)
    direct = Commission.objects.get(order=order, level=1)
    assert direct.beneficiary == bob and direct.amount_fen == order.amount_fen * RATE_L1 // 10_000
    assert direct.earning.hold_until == order.paid_at + window
    second = Commission.objects.filter(order=order, level=2).first()
    if level_two:
        assert second is not None and second.beneficiary == alice
        assert second.amount_fen == order.amount_fen * RATE_L2 // 10_000
    else:
        assert second is None
    # and a refund inside the window voids all of it
    refund_order(order=order)
    assert ledger.balances(bob).pending_fen == 0
    assert ledger.balances(alice).pending_fen == 0
    assert set(Commission.objects.filter(order=order).values_list("status", flat=True)) == {"reversed"}


def test_free_grants_pay_no_commission(alice, bob):
    f.bind(bob, alice)
    f.rule(item_type=TEST_ITEM, rate_bp=RATE_L1)
    order = order_create_free(user=bob, item_type=TEST_ITEM, item_id="A", reason="运营赠送", channel="grant")
    assert order.amount_fen == 0 and order.status == "paid"
    assert Commission.objects.count() == 0


def test_membership_sale_through_a_link_binds_and_pays(alice):
    TierFactory(code="VIP", price_fen=360_000)
    f.rule(item_type="membership", rate_bp=1000)
    buyer = UserFactory()
    order = create_paid_order(
        user=buyer, item_type="membership", item_id="VIP", referral_code=alice.referral_code
    )
    assert order.referrer == alice
    assert Commission.objects.get(order=order).amount_fen == 36_000
    assert ledger.balances(alice).pending_fen == 36_000
