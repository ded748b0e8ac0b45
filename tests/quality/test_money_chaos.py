"""Chaos on the money path: a seeded random driver runs the real services and checks the books after
every step.

The driver buys (with a promoter's referral code), delivers signed payment notifications — once,
twice, much later, after the order was closed —, sweeps, refunds fully or partly, inside and outside
the refund window, settles with the clock moved forward, withdraws, approves, pays out, fails or
lets payouts expire, and "kills a worker mid-task" (runs a task's service in a transaction that dies
before commit, then runs it again, as Celery's acks_late redelivery does). Buyers use coupons (their
own copies and a public percent code, up to 100 % off: the free path) and redeem company codes for a
course (zero-amount orders).

After every step:
- the ledger check passes (every transaction sums to zero, cached balances equal their entries);
- every order was fulfilled at most once and each refund revoked it at most once;
- the promoter's commission on each order equals what one clean delivery would give:
  floor(rate × (amount − refunded)) for an order that was paid, nothing otherwise;
- everything the promoter ever earned is somewhere in their accounts (held + available +
  withdrawing + withdrawn + receivable == Σ commissions);
- a coupon copy is held only by a pending order, a paid order that used one has one live redemption
  (or a returned one after a full refund), and no copy is held or used twice.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from core.errors import ApplicationError
from payments.gateways.base import GatewayError
from tests.payments.catalog import TEST_ITEM

pytestmark = pytest.mark.slow  # a long gate: `make test` runs it, `make test-fast` does not

SEEDS = [7, 19, 42, 101, 202, 303, 404, 505]
STEPS = 120
RATE_BP = 1_000  # 10 % direct commission on the test item


class KilledWorker(Exception):
    """Raised inside a task's transaction: the work dies before commit, as when a worker is killed."""


class Clock:
    """Moves `django.utils.timezone.now` forward (refund windows, expiries, settlement holds)."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


@contextmanager
def on_commit_runs():
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


class World:
    def __init__(self, rng: random.Random, clock: Clock, log, delivered):
        from django.contrib.auth.models import Group

        from core.roles import FINANCE
        from referrals import agreements
        from referrals.models import CommissionRule, PromoterAgreement
        from tests.factories import UserFactory

        self.rng, self.clock, self.log, self.delivered = rng, clock, log, delivered
        self.promoter = UserFactory()
        self.buyers = [UserFactory() for _ in range(4)]
        finance_group = Group.objects.get_or_create(name=FINANCE)[0]
        self.finance = [UserFactory(is_staff=True), UserFactory(is_staff=True)]  # dual approval needs two
        for operator in self.finance:
            operator.groups.add(finance_group)
        agreement = PromoterAgreement.objects.create(
            version=1, title="推广员协议", body="只为真实成交付佣金。", published_at=timezone.now()
        )
        agreements.agreement_accept(user=self.promoter, agreement=agreement)
        CommissionRule.objects.create(item_type=TEST_ITEM, level=1, rate_bp=RATE_BP)
        self.payments = []  # every payment attempt ever started
        self.free_orders = []  # bought at 100 % off: paid at once, no payment
        self.withdrawals = []
        self._growth_setup()

    def _growth_setup(self):
        from datetime import timedelta as days

        from growth.coupons.issuing import coupon_issue
        from growth.models import Coupon
        from growth.redeem_codes.services import batch_create
        from tests.courses.factories import make_course

        self.coupons = [
            Coupon.objects.create(
                name="混沌满减", kind="amount", amount_off_fen=1_000, per_member_limit=1_000
            ),
            Coupon.objects.create(
                name="混沌折扣", kind="percent", percent_off_bp=2_500, cap_fen=50_000, per_member_limit=1_000
            ),
        ]
        Coupon.objects.create(
            name="混沌全免",
            kind="percent",
            percent_off_bp=10_000,
            code="CHAOSFREE",
            per_member_limit=3,
            total_limit=5,
        )
        for n, coupon in enumerate(self.coupons):
            for round_ in range(4):
                coupon_issue(
                    coupon=coupon,
                    users=self.buyers,
                    source="operator",
                    actor=None,
                    source_key=f"c{n}r{round_}",
                )
        course = make_course(title="混沌课", price_fen=19_900)
        self.batch = batch_create(
            name="混沌公司",
            item_type="course",
            item_id=str(course.pk),
            size=6,
            expires_at=timezone.now() + days(days=365),
            created_by=self.finance[0],
        )

    # ---- actions ---------------------------------------------------------------------------------

    def buy(self):
        from growth.models import MemberCoupon
        from payments.models import Channel, Order
        from payments.orders.checkout import order_create
        from payments.orders.payment_attempts import payment_start

        buyer = self.rng.choice(self.buyers)
        coupon_code = ""
        roll = self.rng.random()
        if roll < 0.4:  # one of the buyer's copies, whatever its state (a used one must be refused)
            copy = MemberCoupon.objects.filter(user=buyer).order_by("?").first()
            coupon_code = copy.code if copy else ""
        elif roll < 0.5:
            coupon_code = "CHAOSFREE"
        with on_commit_runs():
            try:
                order = order_create(
                    user=buyer,
                    item_type=TEST_ITEM,
                    item_id=self.rng.choice(["A", "B"]),
                    channel=Channel.SANDBOX,
                    referral_code=self.promoter.referral_code,
                    coupon_code=coupon_code,
                )
            except (
                ApplicationError
            ) as exc:  # refused (pending orders, a coupon that does not apply): nothing made
                assert exc.code == "too_many_pending_orders" or exc.code.startswith("coupon_"), exc
                return
            if order.status == Order.Status.PAID:  # 100 % off: the free path, nothing to pay
                self.free_orders.append(order)
                return
            self.payments.append(payment_start(order=order, channel=Channel.SANDBOX))

    def redeem(self):
        """A buyer types one of the company's codes: a zero-amount order for the course, or a refusal."""
        from growth.redeem_codes.services import code_redeem

        code = self.rng.choice(list(self.batch.codes.values_list("code", flat=True)))
        with on_commit_runs():
            try:
                code_redeem(user=self.rng.choice(self.buyers), raw_code=code)
            except ApplicationError as exc:  # used, one per batch, course already held: nothing changes
                assert exc.code, exc

    def pay(self):
        from payments.gateways import sandbox
        from payments.models import Order

        pending = [
            p for p in self.payments if p.order.status == Order.Status.PENDING or self.rng.random() < 0.2
        ]
        if not pending:
            return
        payment = self.rng.choice(pending)
        payment.order.refresh_from_db()
        try:
            with on_commit_runs():
                sandbox.sandbox_pay(payment.out_trade_no)
        except GatewayError as exc:  # "WeChat" refuses to pay a trade it already closed
            assert exc.code == "ORDER_CLOSED", exc

    def redeliver(self):
        """WeChat retries: the exact bytes of an earlier notification, again (and maybe again)."""
        from payments.gateways import protocol
        from payments.orders.notifications import notification_handle

        if not self.delivered:
            return
        headers, body = self.rng.choice(self.delivered)
        for _ in range(self.rng.randint(1, 3)):
            with on_commit_runs():
                result = notification_handle(body=body, meta=protocol.django_meta_headers(headers))
            assert result.status < 300, result

    def sweep(self):
        from payments.orders.sweeps import orders_sweep

        self.clock.advance(minutes=self.rng.choice([1, 6, 16, 40]))
        with on_commit_runs():
            orders_sweep(now=timezone.now())

    def refund(self):
        from payments.models import Order
        from payments.orders.refunds import refund_request

        paid = [
            p.order
            for p in self.payments
            if p.order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
        ]
        if not paid:
            return
        order = self.rng.choice(paid)
        order.refresh_from_db()
        partial = self.rng.random() < 0.5 and order.refundable_fen > 1
        amount = self.rng.randint(1, order.refundable_fen - 1) if partial else None
        self_service = self.rng.random() < 0.5
        try:
            with on_commit_runs():
                refund_request(
                    order=order,
                    amount_fen=amount,
                    reason="混沌测试退款",
                    requested_by=None if not self_service else order.user,
                    self_service=self_service,
                )
        except ApplicationError as exc:  # window closed, refund already running, … — must change nothing
            assert exc.code, exc

    def settle(self):
        from payments.wallet import settlement

        self.clock.advance(days=self.rng.choice([0, 1, 2, 4]))
        settlement.settle_due(now=timezone.now())

    def withdraw(self):
        from payments.wallet import ledger, withdrawals

        available = ledger.balances(self.promoter).available_fen
        amount = self.rng.choice([100, available // 2, available, available + 1])
        try:
            with on_commit_runs():
                self.withdrawals.append(
                    withdrawals.withdrawal_request(user=self.promoter, amount_fen=amount, method="sandbox")
                )
        except ApplicationError as exc:  # below minimum, above available, owed money, daily limit
            assert exc.code, exc

    def payout(self):
        from payments.gateways import sandbox
        from payments.models import Withdrawal
        from payments.wallet import withdrawal_approval

        if not self.withdrawals:
            return
        withdrawal = self.rng.choice(self.withdrawals)
        withdrawal.refresh_from_db()
        try:
            with on_commit_runs():
                if withdrawal.status == Withdrawal.Status.PENDING_REVIEW:
                    if self.rng.random() < 0.15:
                        withdrawal_approval.withdrawal_reject(
                            withdrawal=withdrawal, operator=self.finance[0], reason="混沌：驳回"
                        )
                        return
                    for operator in self.finance:
                        withdrawal.refresh_from_db()
                        if withdrawal.status == Withdrawal.Status.PENDING_REVIEW:
                            withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=operator)
                    withdrawal.refresh_from_db()
                if withdrawal.status == Withdrawal.Status.WAIT_USER_CONFIRM and self.rng.random() < 0.7:
                    outcome = self.rng.choice(["SUCCESS", "SUCCESS", "FAIL"])
                    sandbox.sandbox_finish_transfer(withdrawal.out_bill_no, state=outcome, fail_reason="混沌")
        except ApplicationError as exc:  # approving twice, rejecting a paid one … — must change nothing
            assert exc.code, exc

    def expire(self):
        from payments.wallet import withdrawal_payouts

        self.clock.advance(hours=self.rng.choice([1, 25]))
        with on_commit_runs():
            withdrawal_payouts.withdrawals_sweep(now=timezone.now())

    def killed_worker(self):
        """A sweep or settlement dies mid-transaction, then Celery redelivers it and it runs again."""
        from payments.orders.sweeps import orders_sweep
        from payments.wallet import settlement

        job = self.rng.choice(
            [
                lambda: orders_sweep(now=timezone.now()),
                lambda: settlement.settle_due(now=timezone.now()),
            ]
        )
        try:
            with transaction.atomic():
                job()
                raise KilledWorker
        except KilledWorker:
            pass
        with on_commit_runs():
            job()

    ACTIONS = [
        ("buy", 5),
        ("pay", 6),
        ("redeliver", 3),
        ("sweep", 2),
        ("refund", 3),
        ("settle", 2),
        ("withdraw", 3),
        ("payout", 4),
        ("expire", 1),
        ("killed_worker", 1),
        ("redeem", 1),
    ]

    def step(self) -> str:
        names = [name for name, _weight in self.ACTIONS]
        weights = [weight for _name, weight in self.ACTIONS]
        name = self.rng.choices(names, weights)[0]
        getattr(self, name)()
        return name

    # ---- invariants ------------------------------------------------------------------------------

    def check(self, history: list[str]) -> None:
        from django.db.models import Sum

        from core.money import apply_bp
        from payments.models import Earning, Order, OrderEvent, Refund
        from payments.wallet import ledger, ledger_check

        result = ledger_check.ledger_check()
        assert result.ok, (history, result.problems)

        fulfilled = self.log.fulfilled
        assert len(fulfilled) == len(set(fulfilled)), ("fulfilled twice", history)
        revoked = self.log.revoked
        assert len(revoked) == len(set(revoked)), ("revoked twice by one refund", history)
        completed = set(
            Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("out_refund_no", flat=True)
        )
        assert {no for _order, no in revoked} <= completed, history

        expected_total = 0
        orders = Order.objects.filter(item_type=TEST_ITEM)
        for order in orders:
            was_paid = OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).exists()
            assert (order.order_no in fulfilled) == was_paid, (order.order_no, order.status, history)
            earnings = Earning.objects.filter(order=order, source="commission")
            assert earnings.count() <= 1, history
            net = sum(e.amount_fen - e.reversed_fen for e in earnings)
            expected = apply_bp(order.amount_fen - order.refunded_fen, RATE_BP) if was_paid else 0
            assert net == expected, (order.order_no, order.status, net, expected, history)
            expected_total += expected

        b = ledger.balances(self.promoter)
        held_somewhere = (
            b.pending_fen + b.available_fen + b.withdrawing_fen + b.withdrawn_fen + b.receivable_fen
        )
        assert held_somewhere == expected_total, (b, expected_total, history)
        assert b.available_fen >= 0 and b.withdrawing_fen >= 0
        earned = Earning.objects.filter(user=self.promoter).aggregate(
            total=Sum("amount_fen"), reversed=Sum("reversed_fen")
        )
        assert (earned["total"] or 0) - (earned["reversed"] or 0) == expected_total, history
        self.check_coupons(history)

    def check_coupons(self, history: list[str]) -> None:
        from django.db.models import Count

        from growth.models import CouponRedemption, MemberCoupon, RedeemCode
        from payments.models import Order

        held = MemberCoupon.objects.filter(state=MemberCoupon.State.HELD).select_related("held_by")
        assert all(copy.held_by.status == Order.Status.PENDING for copy in held), history
        holders = held.values("held_by").annotate(n=Count("pk")).filter(n__gt=1)
        assert not holders.exists(), ("an order holds two copies", history)
        for order in Order.objects.filter(item_type=TEST_ITEM).exclude(context__member_coupon_id=None):
            copy_id = order.context.get("member_coupon_id")
            if copy_id is None:
                continue
            redemptions = CouponRedemption.objects.filter(order=order)
            if order.status == Order.Status.PENDING:
                assert MemberCoupon.objects.get(pk=copy_id).held_by_id == order.pk, history
            elif order.status == Order.Status.CLOSED:
                assert not redemptions.exists(), history
            else:  # paid at some point: used once; returned only by a full refund
                assert redemptions.count() == 1, (order.order_no, order.status, history)
                redemption = redemptions.get()
                assert redemption.discount_fen == order.context["coupon_discount_fen"], history
                if redemption.returned_at is not None:
                    assert order.status == Order.Status.REFUNDED, history
        used = MemberCoupon.objects.filter(state=MemberCoupon.State.USED)
        assert used.count() == CouponRedemption.objects.filter(returned_at__isnull=True).count(), history
        redeemed = RedeemCode.objects.filter(redeemed_by__isnull=False)
        assert (
            redeemed.count() == Order.objects.filter(channel="redeem_code", status=Order.Status.PAID).count()
        )


@pytest.fixture
def delivered(monkeypatch):
    """Every notification the sandbox signs, kept so the driver can deliver it again later."""
    from payments.gateways import sandbox

    kept: list[tuple[dict, bytes]] = []
    original = sandbox._deliver

    def keep_and_deliver(headers, body):
        kept.append((headers, body))
        return original(headers, body)

    monkeypatch.setattr(sandbox, "_deliver", keep_and_deliver)
    return kept


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEEDS)
def test_money_path_holds_under_random_duplicates_refunds_payouts_and_killed_workers(
    seed, monkeypatch, delivered, settings, tmp_path_factory
):
    from tests.payments.catalog import register_test_items

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    log, unregister = register_test_items()
    try:
        world = World(random.Random(seed), Clock(monkeypatch), log, delivered)
        history: list[str] = []
        for _ in range(STEPS):
            history.append(world.step())
            world.check(history)
        # the run really exercised the path it claims to
        assert {"buy", "pay", "refund", "settle", "redeem"} <= set(history), history
        assert log.fulfilled, history
        from growth.models import CouponRedemption

        assert CouponRedemption.objects.exists(), history  # discounted orders were paid
    finally:
        unregister()
