"""Commission: accrued held on real sales, by the most specific rule; reversed with refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ApplicationError
from core.money import apply_bp
from members.points.selectors import points_balance
from payments.gateways import sandbox
from payments.models import Earning, Order, PaymentNotification, WithdrawalSettings
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from payments.wallet import earnings, ledger, settlement
from payments.wallet.withdrawals import withdrawal_request
from referrals import agreements, attribution, commissions, promoters
from referrals.models import Commission, PromoterPrice
from tests.factories import UserFactory
from tests.payments.catalog import PHYSICAL_ITEM, TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as f
from tests.referrals.conftest import run_on_commit

pytestmark = pytest.mark.django_db

PRICE_A = 9_900


@pytest.fixture
def chain(alice, bob, carol):
    """Alice brought Bob, Bob brought Carol: A → B → C."""
    f.bind(bob, alice)
    f.bind(carol, bob)
    return alice, bob, carol


def test_direct_commission_is_held_until_the_refund_window_passes(alice, bob):
    # given a 10% rule and Bob bound to Alice
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    # when Bob pays ¥99
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    # then Alice has ¥9.90 held, due when the 3-day refund window ends
    commission = Commission.objects.get()
    assert (commission.beneficiary, commission.level, commission.amount_fen) == (alice, 1, 990)
    assert commission.hold_until == order.paid_at + timedelta(days=3)
    earning = commission.earning
    assert earning.status == Earning.Status.HELD and earning.source == "commission"
    assert earning.order_id == order.pk and earning.hold_until == commission.hold_until
    assert ledger.balances(alice).pending_fen == 990
    # when settlement runs before the window ends nothing moves; after it, the money is available
    settlement.settle_due(now=order.paid_at + timedelta(days=2))
    assert ledger.balances(alice).available_fen == 0
    settlement.settle_due(now=order.paid_at + timedelta(days=3, seconds=1))
    balances = ledger.balances(alice)
    assert (balances.pending_fen, balances.available_fen) == (0, 990)


def test_commission_base_is_what_the_buyer_paid(alice, bob):
    f.rule(rate_bp=1500)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="B")  # ¥3,600 − ¥360 line
    assert order.amount_fen == 324_000
    assert Commission.objects.get().amount_fen == apply_bp(324_000, 1500) == 48_600


def test_no_rule_no_commission_and_the_order_still_records_its_referrer(alice, bob):
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert order.referrer == alice
    assert Commission.objects.count() == 0


def test_rule_per_item_beats_rule_per_type(alice, bob):
    f.rule(rate_bp=1000)
    f.rule(rate_bp=2000, item_id="B")
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="B")
    rates = sorted(Commission.objects.values_list("rate_bp", flat=True))
    assert rates == [1000, 2000]


def test_promoter_level_rate_and_level_specific_rules(alice, bob):
    # given KOL promoters earn 20% on everything in the programme, 25% on item B by a specific rule
    kol = f.level("kol", 2, commission_rate_bp=2000)
    f.level("normal", 1, is_default=True)
    f.rule(rate_bp=1000)
    f.rule(rate_bp=2500, item_id="B", promoter_level=kol)
    f.rule(rate_bp=3000, item_type=PHYSICAL_ITEM, promoter_level=kol)
    promoters.promoter_set_level(user=alice, level=kol, actor=None)
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="B")
    create_paid_order(user=bob, item_type=PHYSICAL_ITEM, item_id="A")
    by_item = {(c.item_type, c.order.item_id): c.rate_bp for c in Commission.objects.select_related("order")}
    assert by_item == {(TEST_ITEM, "A"): 2000, (TEST_ITEM, "B"): 2500, (PHYSICAL_ITEM, "A"): 3000}
    assert Commission.objects.filter(promoter_level=kol).count() == 3


def test_level_rate_applies_only_to_items_in_the_programme(alice, bob):
    kol = f.level("kol", 2, commission_rate_bp=2000)
    promoters.promoter_set_level(user=alice, level=kol, actor=None)
    f.rule(rate_bp=1000)  # test_item is in the programme, test_physical is not
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=PHYSICAL_ITEM, item_id="A")
    assert Commission.objects.count() == 0


def test_level_two_is_off_by_default_even_with_a_level_two_rule(chain):
    alice, bob, carol = chain
    f.rule(rate_bp=1000)
    f.rule(rate_bp=500, level=2)
    create_paid_order(user=carol, item_type=TEST_ITEM, item_id="A")
    assert list(Commission.objects.values_list("beneficiary_id", "level")) == [(bob.pk, 1)]
    assert ledger.balances(alice).pending_fen == 0


def test_level_two_when_enabled_pays_the_referrers_referrer(chain):
    alice, bob, carol = chain
    f.configure(commission_depth=2)
    f.rule(rate_bp=1000)
    f.rule(rate_bp=500, level=2)
    order = create_paid_order(user=carol, item_type=TEST_ITEM, item_id="A")
    rows = {c.level: c for c in Commission.objects.select_related("earning")}
    assert (rows[1].beneficiary, rows[1].amount_fen, rows[1].earning.source) == (bob, 990, "commission")
    assert (rows[2].beneficiary, rows[2].amount_fen, rows[2].earning.source) == (alice, 495, "commission_l2")
    assert Commission.objects.filter(order=order).count() == 2  # never a third level


def test_level_two_never_pays_the_buyer_back(alice, bob):
    # given Alice brought Bob, and the operator lets share links win; Alice buys via Bob's link
    f.configure(commission_depth=2, share_link_overrides_binding=True)
    f.bind(bob, alice)
    f.rule(rate_bp=1000)
    f.rule(rate_bp=500, level=2)
    create_paid_order(user=alice, item_type=TEST_ITEM, item_id="A", referral_code=bob.referral_code)
    # then the cycle is refused: nobody earns on Alice's own purchase through her downline
    assert Commission.objects.count() == 0


def test_agreement_must_be_accepted_before_earning(alice, bob):
    f.agreement(1)
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    skipped = Commission.objects.get()
    assert skipped.status == "skipped" and skipped.skip_reason == "agreement" and skipped.earning is None
    assert ledger.balances(alice).pending_fen == 0
    # after accepting, the next sale pays
    agreements.agreement_accept(user=alice, agreement=agreements.agreement_current())
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert ledger.balances(alice).pending_fen == 990


def test_a_new_version_requiring_acceptance_stops_earning_until_accepted(alice, bob):
    v1 = f.agreement(1)
    agreements.agreement_accept(user=alice, agreement=v1)
    f.agreement(2, requires_reacceptance=False)
    assert agreements.agreement_accepted(alice) is True  # a minor revision does not
    f.agreement(3, requires_reacceptance=True)
    assert agreements.agreement_accepted(alice) is False
    f.rule()
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert Commission.objects.get().skip_reason == "agreement"


def test_operator_requiring_membership_to_earn_skips_non_members(alice, bob):
    f.configure(earning_requires_membership=True)
    f.rule()
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert Commission.objects.get().skip_reason == "membership"


def test_blocked_promoter_earns_nothing(alice, bob):
    f.rule()
    f.bind(bob, alice)
    promoters.promoter_block(user=alice, blocked=True, actor=None, reason="刷单")
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    assert Commission.objects.get().skip_reason == "blocked"
    assert ledger.balances(alice).pending_fen == 0


# ---- refunds ---------------------------------------------------------------------------------------------


def test_refund_inside_the_window_voids_the_commission(alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    refund_order(order=order)
    commission = Commission.objects.select_related("earning").get()
    assert commission.status == "reversed" and commission.reversed_fen == 990
    assert commission.earning.status == Earning.Status.VOIDED
    settlement.settle_due(now=timezone.now() + timedelta(days=10))
    balances = ledger.balances(alice)
    assert (balances.pending_fen, balances.available_fen, balances.receivable_fen) == (0, 0, 0)


def test_refund_after_settlement_claws_back_and_blocks_withdrawal(alice, bob):
    # given Alice's commission was settled and she withdrew … nothing yet (it is all available)
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    settlement.settle_due(now=timezone.now() + timedelta(days=4))
    assert ledger.balances(alice).available_fen == 990
    # and she spent most of her balance through a deduction (a withdrawal in flight)
    earnings.earning_deduct(user=alice, amount_fen=900, idempotency_key="test:spent", reason="已提现")
    # when the operator refunds Bob's order after the window
    refund_order(order=order)
    # then the commission is clawed back: available first, the rest owed (receivable negative)
    earning = Commission.objects.get().earning
    earning.refresh_from_db()
    assert earning.status == Earning.Status.CLAWED_BACK and earning.reversed_fen == 990
    balances = ledger.balances(alice)
    assert balances.available_fen == 0 and balances.receivable_fen == -900
    # and a withdrawal is refused while she owes the platform
    with pytest.raises(ApplicationError) as exc:
        withdrawal_request(
            user=alice, amount_fen=WithdrawalSettings.current().min_amount_fen, method="sandbox"
        )
    assert exc.value.code == "withdrawal_blocked_owed"


def test_partial_refunds_reverse_proportionally_floor_remainder_to_platform(alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")  # 9900 → 990
    refund_order(order=order, amount_fen=3_333)
    commission = Commission.objects.get()
    # Alice keeps floor(10% × 6567) = 656; 334 is reversed (the 0.7 fen stays with the platform)
    assert (commission.amount_fen - commission.reversed_fen, commission.reversed_fen) == (656, 334)
    assert commission.status == "partially_reversed"
    assert ledger.balances(alice).pending_fen == 656
    refund_order(order=order, amount_fen=6_000)
    commission.refresh_from_db()
    assert commission.net_fen == apply_bp(567, 1000) == 56
    refund_order(order=order)
    commission.refresh_from_db()
    assert commission.status == "reversed" and commission.net_fen == 0
    assert ledger.balances(alice).pending_fen == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    rate=st.integers(min_value=0, max_value=10_000),
    refunds=st.lists(st.integers(min_value=1, max_value=10**9), max_size=6),
)
def test_reversal_arithmetic_never_creates_or_loses_a_fen(amount, rate, refunds):
    """What the promoter keeps is always floor(rate × net paid); kept + reversed == accrued."""
    accrued = apply_bp(amount, rate)
    refunded = 0
    reversed_total = 0
    for part in refunds:
        part = min(part, amount - refunded)
        if part <= 0:
            break
        refunded += part
        keep = min(accrued, apply_bp(amount - refunded, rate))
        delta = (accrued - keep) - reversed_total
        assert delta >= 0
        reversed_total += delta
        assert keep + reversed_total == accrued
        assert keep == (amount - refunded) * rate // 10_000


def test_fifty_duplicate_payment_notifications_make_one_commission(alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    with run_on_commit():
        order = order_create(user=bob, item_type=TEST_ITEM, item_id="A", channel="sandbox")
        payment = payment_start(order=order, channel="sandbox")
        statuses = [sandbox.sandbox_pay(payment.out_trade_no) for _ in range(50)]
    assert all(status < 300 for status in statuses)
    assert PaymentNotification.objects.filter(out_trade_no=payment.out_trade_no).count() == 50
    assert Commission.objects.count() == 1
    assert Earning.objects.filter(source="commission").count() == 1
    assert ledger.balances(alice).pending_fen == 990


def test_listener_called_twice_is_harmless(alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    commissions.commission_accrue_for_order(order)
    refund = refund_order(order=order, amount_fen=5_000)
    commissions.commission_reverse_for_refund(order, refund)
    assert Commission.objects.count() == 1
    assert Commission.objects.get().net_fen == apply_bp(4_900, 1000)
    assert ledger.balances(alice).pending_fen == 490


# ---- point rewards ---------------------------------------------------------------------------------------


def test_points_reward_is_awarded_after_the_window_and_taken_back_on_refund(alice, bob):
    # given a rule paying the 10% reward as points, 10 points per yuan
    f.rule(rate_bp=1000, reward_kind="points", points_per_yuan=10)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    # then no cash and no points yet
    commission = Commission.objects.get()
    assert commission.reward_kind == "points" and commission.earning is None
    assert ledger.balances(alice).pending_fen == 0
    assert commissions.commission_points_release(now=timezone.now()) == 0
    # when the refund window has passed, 990 fen → 99 points
    assert commissions.commission_points_release(now=timezone.now() + timedelta(days=4)) == 1
    assert commissions.commission_points_release(now=timezone.now() + timedelta(days=5)) == 0
    assert points_balance(alice) == 99
    # a later refund of half the order takes back the matching points
    refund_order(order=order, amount_fen=4_950)
    commission.refresh_from_db()
    assert commission.net_fen == 495 and commission.points_clawed_back == 99 - 49
    assert points_balance(alice) == 49


def test_points_reward_refunded_before_release_awards_nothing(alice, bob):
    f.rule(rate_bp=1000, reward_kind="points", points_per_yuan=10)
    f.bind(bob, alice)
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    refund_order(order=order)
    commissions.commission_points_release(now=timezone.now() + timedelta(days=4))
    assert points_balance(alice) == 0


# ---- promoter prices and levels ------------------------------------------------------------------------


def test_promoter_prices_retail_kol_core(alice, bob, carol):
    # the founding example, in fen: retail 5,000 → KOL 4,000 → core 3,000 (item "A" is ¥99 here)
    normal = f.level("normal", 1, is_default=True)
    kol = f.level("kol", 2, name="KOL")
    core = f.level("core", 3, name="核心")
    PromoterPrice.objects.create(level=kol, item_type=TEST_ITEM, item_id="A", price_fen=8_000)
    PromoterPrice.objects.create(level=core, item_type=TEST_ITEM, item_id="A", price_fen=6_000)
    PromoterPrice.objects.create(
        level=kol, item_type=TEST_ITEM, item_id="A", price_fen=9_000, applies_to="referred"
    )
    promoters.promoter_set_level(user=alice, level=kol, actor=None)
    promoters.promoter_set_level(user=carol, level=core, actor=None)
    assert normal.is_default
    f.rule(rate_bp=1000)
    # a normal member pays retail; a KOL and a core promoter pay their own prices
    plain = order_create(user=bob, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    as_kol = order_create(user=alice, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    as_core = order_create(user=carol, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    assert (plain.amount_fen, as_kol.amount_fen, as_core.amount_fen) == (9_900, 8_000, 6_000)
    assert as_kol.lines[-1]["label"] == "KOL价"
    # Bob buying through the KOL's code gets the KOL's referred price; commission is on what he paid
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A", referral_code=alice.referral_code)
    assert order.amount_fen == 9_000
    assert Commission.objects.get(order=order).amount_fen == 900


def test_levels_upgrade_automatically_on_real_sales_not_on_signups(alice):
    f.level("normal", 1, is_default=True)
    kol = f.level("kol", 2, auto_min_orders=2, auto_min_sales_fen=15_000)
    f.rule(rate_bp=1000)
    # sign-ups alone never upgrade
    for _ in range(5):
        attribution.on_user_signed_up(user=UserFactory(), referral_code=alice.referral_code, source="web")
    assert promoters.promoter_level_of(alice).code == "normal"
    first, second = UserFactory(), UserFactory()
    f.bind(first, alice)
    f.bind(second, alice)
    create_paid_order(user=first, item_type=TEST_ITEM, item_id="A")
    assert promoters.promoter_level_of(alice).code == "normal"
    create_paid_order(user=second, item_type=TEST_ITEM, item_id="A")
    assert promoters.promoter_level_of(alice) == kol
    assert alice.promoter.level_source == "auto"
    assert Order.objects.filter(referrer=alice).count() == 2


def test_a_membership_tier_can_raise_the_rate_but_is_never_required(alice, bob, carol):
    # given VIP members promote at the "会员推广员" level (20%); everyone else at the default 10%
    from tests.courses.factories import give_tier, vip_tier

    vip = vip_tier()
    f.level("normal", 1, is_default=True)
    f.level("member", 2, commission_rate_bp=2000, grant_tier=vip)
    f.rule(rate_bp=1000)
    give_tier(alice, vip)
    f.bind(bob, alice)
    f.bind(dave := UserFactory(), carol)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    create_paid_order(user=dave, item_type=TEST_ITEM, item_id="A")
    rates = dict(Commission.objects.values_list("beneficiary_id", "rate_bp"))
    # then the VIP earns more, and the non-member still earns: promoting never requires buying
    assert rates == {alice.pk: 2000, carol.pk: 1000}
