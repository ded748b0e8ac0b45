"""Hypothesis stateful test of the benefits money buys, for one member and a finance operator: buy VIP,
upgrade to KA (priced with the VIP credit), renew, redeem points-mall rewards (VIP 30 days, a course)
with idempotency keys that repeat, order one course twice and pay both, take a VIP-included event
ticket, let days pass — and refund any paid order at any moment, as the member (self-service, full)
or as the operator (full or partial), completing the refund at once or leaving it in flight to
complete or fail later.

After every step: the ledger check passes; the funding invariant holds (tests/funding.py, strict:
no benefit outlives the payment behind it, no membership longer than its unrevoked grants); the
points balance equals an independent model (earned − redeemed − taken back + given back) and is never
negative; the membership's tier and window agree with its grants; VIP circle access follows the tier.
A refused refund or redemption changes nothing (order, refunds, points, membership, grants).

Each example runs inside a transaction that is rolled back afterwards (as in
test_ledger_state_machine.py). `BENEFITS_MACHINE_EXAMPLES` (default 10) and `BENEFITS_MACHINE_STEPS`
(default 25) set how many sequences run and how long they are.

It found that refunding a KA upgrade after a KA renewal dropped the membership to VIP although the
paid KA renewal stood; such a refund is now refused (`renewed_after`) until the renewal is refunded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import ApplicationError

EXAMPLES = int(os.environ.get("BENEFITS_MACHINE_EXAMPLES", "10"))
STEPS = int(os.environ.get("BENEFITS_MACHINE_STEPS", "25"))
KEYS = ["tap-1", "tap-2", "tap-3"]  # a small pool: the same key comes back (a double tap, a retry)
PERSON_REFUSALS = {
    "credit_used",
    "renewed_after",
    "membership_order_pending",
    "points_spent",
    "refund_window_closed",
    "already_refunded",
    "refund_in_progress",
    "order_not_refundable",
    "invalid_refund_amount",
}


class _Clock:
    """`django.utils.timezone.now` plus an offset the machine moves (reset for every example)."""

    offset = timedelta()


@dataclass
class PointsModel:
    """The expected balance, kept without asking members.funding."""

    balance: int = 0
    earned: dict[str, int] = field(default_factory=dict)  # order_no → points its payment earned
    taken: dict[str, int] = field(default_factory=dict)  # order_no → points refunds took back (net)
    reserved: dict[str, tuple[str, int]] = field(default_factory=dict)  # out_refund_no → (order, points)

    def owed(self, order, amount_fen: int) -> int:
        """What refunding `amount_fen` of `order` takes back (all that is left for the last of it)."""
        outstanding = self.earned.get(order.order_no, 0) - self.taken.get(order.order_no, 0)
        if amount_fen >= order.amount_fen - order.refunded_fen:
            return outstanding
        return min(outstanding, amount_fen // 100)

    def take(self, order_no: str, out_refund_no: str, points: int) -> None:
        assert points <= self.balance, (points, self.balance)
        self.balance -= points
        self.taken[order_no] = self.taken.get(order_no, 0) + points
        self.reserved[out_refund_no] = (order_no, points)

    def give_back(self, out_refund_no: str) -> None:
        order_no, points = self.reserved.pop(out_refund_no, ("", 0))
        self.balance += points
        if order_no:
            self.taken[order_no] -= points


class BenefitsMachine(RuleBasedStateMachine):
    paid = Bundle("paid")  # order numbers of orders paid with money
    in_flight = Bundle("in_flight")  # refunds requested whose provider call has not run

    def __init__(self):
        super().__init__()
        from circles.models import Circle
        from members.models import Reward
        from tests.courses import factories as cf
        from tests.factories import UserFactory
        from tests.payments.ledger_support import finance_user

        _Clock.offset = timedelta()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.vip, self.ka = cf.vip_tier(), cf.ka_tier()
        self.member = UserFactory()
        self.operator = finance_user()
        self.course = cf.make_course(price_fen=19_900)
        self.mall_course = cf.make_course(price_fen=9_900, title="积分课")
        self.event = cf.make_event(tiers=[self.vip], capacity=5, starts_in=timedelta(days=400))
        self.circle = Circle.objects.create(name="会员圈", owner=UserFactory(), price_fen=19_900)
        self.circle.included_in_tiers.set([self.vip])
        self.vip_days = Reward.objects.create(
            title="VIP 会员 30 天", item_type="membership_days", item_id="VIP:30", points_price=3000
        )
        self.course_reward = Reward.objects.create(
            title="积分课", item_type="course", item_id=str(self.mall_course.pk), points_price=500
        )
        self.points = PointsModel()
        self.redeemed: dict[str, tuple[int, str]] = {}  # idempotency key → (redemption id, reward)
        self.unchanged = False

    def _step(self) -> None:
        self.unchanged = False

    def _unchanged(self) -> None:
        """The step was refused and the snapshot proved nothing moved: the database checks of the
        step before still hold (the clock did not move either), so they are not paid for again."""
        self.unchanged = True

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        _Clock.offset = timedelta()

    # ---- helpers -------------------------------------------------------------------------------------

    def _balance(self) -> int:
        from members.models import PointsAccount

        return PointsAccount.objects.filter(user=self.member).values_list("balance", flat=True).first() or 0

    def _membership(self):
        from members.models import Membership

        return Membership.objects.filter(user=self.member).select_related("tier").first()

    def _active(self):
        membership = self._membership()
        return membership if membership is not None and timezone.now() < membership.ends_at else None

    def _membership_refund_in_flight(self) -> bool:
        from payments.models import Order

        return Order.objects.filter(
            user=self.member, item_type__in=["membership", "membership_days"], status=Order.Status.REFUNDING
        ).exists()

    def _snapshot(self, order=None) -> tuple:
        from members.models import MembershipGrant, PointsEntry, Redemption
        from payments.models import Order, Refund

        membership = self._membership()
        row = Order.objects.filter(pk=order.pk).values_list("status", "refunded_fen").get() if order else None
        return (
            row,
            Refund.objects.filter(order__user=self.member).count(),
            self._balance(),
            PointsEntry.objects.filter(user=self.member).count(),
            Redemption.objects.filter(user=self.member).count(),
            (membership.tier_id, membership.starts_at, membership.ends_at) if membership else None,
            MembershipGrant.objects.filter(user=self.member, revoked_at__isnull=True).count(),
            Order.objects.filter(user=self.member).count(),
        )

    def _pay(self, order):
        """Pay in the sandbox cashier; the signed notification marks it paid (and earns points)."""
        from payments.gateways import sandbox
        from payments.orders.payment_attempts import payment_start

        with TestCase.captureOnCommitCallbacks(execute=True):
            payment = payment_start(order=order, channel="sandbox")
            assert sandbox.sandbox_pay(payment.out_trade_no) < 300
        order.refresh_from_db()
        return order

    def _earn(self, order) -> None:
        self.points.earned[order.order_no] = order.amount_fen // 100
        self.points.balance += order.amount_fen // 100

    def _has_a_ticket(self) -> bool:
        from courses.models import EventRegistration

        return EventRegistration.objects.filter(
            user=self.member, event=self.event, status=EventRegistration.Status.CONFIRMED
        ).exists()

    def _holds_the_course(self) -> bool:
        from courses.models import CourseEnrolment

        return CourseEnrolment.objects.filter(
            user=self.member, course=self.course, status=CourseEnrolment.Status.ACTIVE
        ).exists()

    def _buy_tier(self, code: str):
        from payments.models import Order
        from payments.orders.checkout import order_create

        self._step()
        active = self._active()
        tier = self.vip if code == "VIP" else self.ka
        before = self._snapshot()
        try:
            order = order_create(user=self.member, item_type="membership", item_id=code, channel="sandbox")
        except ApplicationError as exc:
            if exc.code == "membership_refund_in_progress":  # nothing stacks on a refunding window
                assert self._membership_refund_in_flight(), exc
            else:  # a lower tier while a higher one is active
                assert active is not None and active.tier.rank > tier.rank, exc
            assert self._snapshot() == before
            self._unchanged()
            event(f"buy {code}: refused {exc.code}")
            return multiple()
        if active is not None and active.tier.rank < tier.rank:
            assert order.amount_fen < tier.price_fen  # the upgrade is priced with the VIP credit
            kind = "upgrade"
        else:
            assert order.amount_fen == tier.price_fen
            kind = "renew" if active is not None else "start"
        order = self._pay(order)
        assert order.status == Order.Status.PAID
        self._earn(order)
        membership = self._active()
        assert membership is not None and membership.tier == tier
        event(f"buy {code}: {kind}")
        return order.order_no

    # ---- buying ----------------------------------------------------------------------------------------

    @initialize(target=paid, start=st.sampled_from(["", "VIP", "VIP+KA"]))
    def most_sequences_start_as_a_member(self, start):
        """Credit and points chains need a VIP (and an upgrade) first; ten sequences cannot wait."""
        return multiple(*[self._buy_tier(code) for code in start.split("+") if code])

    @precondition(lambda self: (m := self._active()) is None or m.tier_id != self.vip.pk)
    @rule(target=paid)
    def buy_vip(self):
        """A start, or (KA active) the lower tier, refused; VIP renewals are `renew`."""
        return self._buy_tier("VIP")

    @precondition(lambda self: self._active() is None)
    @rule(target=paid)
    def start_ka(self):
        return self._buy_tier("KA")

    @precondition(lambda self: (m := self._active()) is not None and m.tier_id == self.vip.pk)
    @rule(target=paid)
    def upgrade_to_ka(self):
        return self._buy_tier("KA")

    @precondition(lambda self: self._active() is not None)
    @rule(target=paid)
    def renew(self):
        return self._buy_tier(self._active().tier.code)

    @precondition(lambda self: not self._holds_the_course())
    @rule(target=paid)
    def order_one_course_twice_and_pay_both(self):
        """A double tap: two orders for one course, both paid; the second is refunded on its own."""
        from courses.models import CourseEnrolment
        from payments.models import Order, Refund
        from payments.orders.checkout import order_create

        self._step()
        try:
            first = order_create(
                user=self.member, item_type="course", item_id=str(self.course.pk), channel="sandbox"
            )
        except ApplicationError as exc:  # already enrolled through an earlier order
            assert CourseEnrolment.objects.filter(
                user=self.member, course=self.course, status=CourseEnrolment.Status.ACTIVE
            ).exists(), exc
            event("course twice: already held")
            return multiple()
        second = order_create(
            user=self.member, item_type="course", item_id=str(self.course.pk), channel="sandbox"
        )
        first, second = self._pay(first), self._pay(second)
        assert first.status == Order.Status.PAID
        assert second.status == Order.Status.REFUNDED
        assert second.refunds.get().status == Refund.Status.SUCCEEDED
        self._earn(first)
        # The second earned its points and the system's refund took them straight back.
        self.points.earned[second.order_no] = second.amount_fen // 100
        self.points.taken[second.order_no] = second.amount_fen // 100
        enrolment = CourseEnrolment.objects.get(user=self.member, course=self.course)
        assert enrolment.status == CourseEnrolment.Status.ACTIVE and enrolment.order_no == first.order_no
        event("course twice: second refunded")
        return first.order_no

    # ---- points mall -----------------------------------------------------------------------------------

    @rule(reward=st.sampled_from(["vip_days", "course"]), key=st.sampled_from(KEYS))
    def redeem(self, reward, key):
        from members.models import Redemption
        from members.points import mall

        self._step()
        chosen = self.vip_days if reward == "vip_days" else self.course_reward
        used = sum(1 for _pk, name in self.redeemed.values() if name == reward)  # each limited to 1
        before = self._snapshot()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                redemption = mall.points_redeem(user=self.member, reward_id=chosen.pk, idempotency_key=key)
        except ApplicationError as exc:
            assert key not in self.redeemed, "a key that redeemed once must answer with that redemption"
            if exc.code == "membership_refund_in_progress":
                assert reward == "vip_days" and self._membership_refund_in_flight(), exc
            elif used >= chosen.per_member_limit:
                assert exc.code == "redeem_limit_reached", exc
            elif self.points.balance < chosen.points_price:
                assert exc.code == "insufficient_points", exc
            assert self._snapshot() == before, (exc.code, before, self._snapshot())
            self._unchanged()
            event(f"redeem {reward}: refused {exc.code}")
            return
        if key in self.redeemed:
            assert redemption.pk == self.redeemed[key][0]  # the same key redeems once
            assert self._snapshot() == before
            self._unchanged()
            event("redeem: repeated key")
            return
        assert chosen.points_price <= self.points.balance and used < chosen.per_member_limit
        self.redeemed[key] = (redemption.pk, reward)
        self.points.balance -= chosen.points_price
        assert Redemption.objects.filter(user=self.member).count() == len(self.redeemed)
        event(f"redeem {reward}")

    # ---- included benefits ------------------------------------------------------------------------------

    @precondition(lambda self: self._active() is not None and not self._has_a_ticket())
    @rule()
    def register_for_the_vip_event(self):
        from courses.events import registrations as event_registrations
        from courses.events import selectors as event_selectors
        from courses.models import EventRegistration

        self._step()
        covered = event_selectors.tier_ticket_covered(self.member, self.event)
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                ticket = event_registrations.event_register(user=self.member, event=self.event)
        except ApplicationError as exc:
            assert not covered, exc
            event(f"event: refused {exc.code}")
            return
        assert covered, "a ticket for a member whose tier does not include the event"
        assert ticket.status == EventRegistration.Status.CONFIRMED and ticket.source == "tier", ticket
        event("event: tier ticket")

    # ---- refunds ------------------------------------------------------------------------------------

    @rule(
        target=in_flight,
        order_no=paid,
        as_member=st.booleans(),
        share=st.one_of(st.none(), st.integers(1, 99)),
        complete=st.booleans(),
    )
    def request_refund(self, order_no, as_member, share, complete):
        from payments.models import Order, Refund
        from payments.orders.refunds import refund_request

        self._step()
        order = Order.objects.get(order_no=order_no)
        amount = None
        if not as_member and share is not None and order.refundable_fen > 1:
            amount = max(1, order.refundable_fen * share // 100)
        before = self._snapshot(order)
        balance = self.points.balance
        full = amount if amount is not None else order.refundable_fen
        owed = self.points.owed(order, full) if order.refundable_fen > 0 else 0
        try:
            with TestCase.captureOnCommitCallbacks(execute=complete):
                refund = refund_request(
                    order=order,
                    amount_fen=amount,
                    reason="状态机退款",
                    requested_by=self.member if as_member else self.operator,
                    self_service=as_member,
                )
        except ApplicationError as exc:
            assert exc.code in PERSON_REFUSALS, exc
            after = self._snapshot(order)
            assert after == before, (exc.code, before, after)
            self._unchanged()
            if exc.code == "points_spent":
                assert owed > balance, (owed, balance)
                assert exc.extra["points_owed"] == owed and exc.extra["points_balance"] == balance
            event(f"refund {'member' if as_member else 'operator'}: refused {exc.code}")
            return multiple()
        assert owed <= balance, ("a refund went ahead whose points the balance did not cover", owed, balance)
        assert refund.requested_by_id == (self.member.pk if as_member else self.operator.pk)
        self.points.take(order_no, refund.out_refund_no, owed)
        refund.refresh_from_db()
        order.refresh_from_db()
        kind = f"refund {'member' if as_member else 'operator'} {'partial' if amount else 'full'}"
        if complete:
            assert refund.status == Refund.Status.SUCCEEDED, refund.status
            assert order.refunded_fen == before[0][1] + refund.amount_fen
            self.points.reserved.pop(refund.out_refund_no)
            event(kind + ": done")
            return multiple()
        assert refund.status == Refund.Status.PENDING and order.status == Order.Status.REFUNDING
        event(kind + ": in flight")
        return refund.out_refund_no

    @rule(out_refund_no=consumes(in_flight), succeed=st.booleans())
    def finish_refund(self, out_refund_no, succeed):
        from payments.models import Order, Refund
        from payments.orders.refunds import refund_complete, refund_submit

        self._step()
        refund = Refund.objects.select_related("order").get(out_refund_no=out_refund_no)
        assert refund.status == Refund.Status.PENDING
        refunded_before = refund.order.refunded_fen
        with TestCase.captureOnCommitCallbacks(execute=True):
            if succeed:
                refund_submit(refund_id=refund.pk)  # the worker; the sandbox bank finishes it
            else:
                refund_complete(out_refund_no=out_refund_no, status="CLOSED")
        refund.refresh_from_db()
        order = Order.objects.get(pk=refund.order_id)
        if succeed:
            assert refund.status == Refund.Status.SUCCEEDED
            assert order.refunded_fen == refunded_before + refund.amount_fen
            self.points.reserved.pop(out_refund_no)
        else:
            assert refund.status == Refund.Status.CLOSED
            assert order.refunded_fen == refunded_before
            assert order.status == (Order.Status.PARTIALLY_REFUNDED if refunded_before else Order.Status.PAID)
            self.points.give_back(out_refund_no)  # the reserved points come back
        event(f"in-flight refund {'succeeded' if succeed else 'failed'}")

    # ---- time ----------------------------------------------------------------------------------------

    @rule(days=st.integers(1, 5))
    def days_pass(self, days):
        self._step()
        _Clock.offset += timedelta(days=days)

    # ---- invariants --------------------------------------------------------------------------------

    @invariant()
    def ledger_balances(self):
        if self.unchanged:
            return
        from payments.wallet import ledger_check

        result = ledger_check.ledger_check()
        assert result.ok, result.problems

    @invariant()
    def no_benefit_outlives_its_funding(self):
        if self.unchanged:
            return
        from tests.funding import funding_violations

        assert funding_violations(strict=True) == []

    @invariant()
    def points_match_the_model_and_never_go_negative(self):
        balance = self._balance()
        assert balance >= 0
        assert balance == self.points.balance, (balance, self.points)

    @invariant()
    def membership_agrees_with_its_grants(self):
        if self.unchanged:
            return
        from members.models import MembershipGrant

        membership = self._active()
        if membership is None:
            return
        grants = list(
            MembershipGrant.objects.filter(
                membership=membership, revoked_at__isnull=True, starts_after__gte=membership.starts_at
            ).order_by("pk")
        )
        assert grants, "an active membership without a standing grant in its window"
        assert membership.tier_id == grants[-1].tier_id
        assert {grant.tier_id for grant in grants} <= {membership.tier_id}
        days = sum(grant.days for grant in grants)
        assert membership.ends_at - membership.starts_at == timedelta(days=days), (
            membership.ends_at - membership.starts_at,
            days,
        )

    @invariant()
    def vip_circle_follows_the_tier(self):
        if self.unchanged:
            return
        from circles.selectors import access as access_selectors

        assert access_selectors.circle_access(self.member, self.circle).can_read == (
            self._active() is not None
        )


@pytest.mark.slow
@pytest.mark.django_db
def test_random_sequences_of_purchases_redemptions_and_refunds_keep_every_benefit_funded(
    monkeypatch, settings, tmp_path_factory
):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + _Clock.offset)
    run_state_machine_as_test(
        BenefitsMachine,
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        ),
    )
