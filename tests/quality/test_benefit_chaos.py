"""Chaos on the benefits money buys: a seeded random driver runs the real services (memberships,
upgrades, points redemptions, group buys, duplicate course and camp orders, tier-included tickets and
camp seats) and refunds anything at any moment, as the member or as a money operator.

After every step:
- the ledger check passes;
- the funding invariant holds (tests/funding.py, strict): no member holds a benefit whose funding
  chain contains a refunded payment it did not replace — membership days, upgrade credit, earned
  points, enrolments, seats, tickets, group-buy gifts — and no membership runs longer than its
  unrevoked grants paid for;
- every refund a person asked for names them (`Refund.requested_by`);
- a refusal changes nothing (the order and the points balance are as they were).

The companion driver in test_money_chaos.py covers duplicates, redeliveries, sweeps, settlement and
payouts on the commission path.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from core.errors import ApplicationError
from tests.funding import funding_violations
from tests.quality.test_money_chaos import Clock

pytestmark = pytest.mark.slow  # a long gate: `make test` runs it, `make test-fast` does not

SEEDS = [3, 11, 29, 57, 83, 131]
STEPS = 70


class BenefitWorld:
    def __init__(self, rng: random.Random, clock: Clock):
        from django.contrib.auth.models import Group

        from circles.models import Circle
        from core.roles import FINANCE
        from members.models import Reward
        from tests.courses import factories as cf
        from tests.factories import UserFactory
        from tests.referrals import factories as rf

        self.rng, self.clock = rng, clock
        self.vip, self.ka = cf.vip_tier(), cf.ka_tier()
        self.buyers = [UserFactory() for _ in range(4)]
        self.finance = UserFactory(is_staff=True)
        self.finance.groups.add(Group.objects.get_or_create(name=FINANCE)[0])
        self.course = cf.make_course(price_fen=19_900)
        self.cheap_course = cf.make_course(price_fen=9_900, title="便宜课")
        _camp, self.term = cf.make_camp(price_fen=9_900, started_days_ago=1, days=30)
        _tier_camp, self.tier_term = cf.make_camp(tiers=[self.vip], days=30, title="会员营")
        self.event = cf.make_event(tiers=[self.vip], capacity=3, starts_in=timedelta(days=60))
        self.circle = Circle.objects.create(name="会员圈", owner=UserFactory(), price_fen=19_900)
        self.circle.included_in_tiers.set([self.vip])
        self.rewards = [
            Reward.objects.create(
                title="VIP 30 天", item_type="membership_days", item_id="VIP:30", points_price=3000
            ),
            Reward.objects.create(
                title="便宜课", item_type="course", item_id=str(self.cheap_course.pk), points_price=500
            ),
        ]
        self.offer = rf.offer(item_type="membership", item_id="VIP", size=2, price_fen=200_000)
        self.orders: list[str] = []

    # ---- helpers ---------------------------------------------------------------------------------

    def _order(self, user, item_type: str, item_id: str):
        from payments.orders.checkout import order_create

        try:
            order = order_create(user=user, item_type=item_type, item_id=item_id, channel="sandbox")
        except ApplicationError as exc:  # already held, lower tier, too many pending … — nothing made
            assert exc.code, exc
            return None
        self.orders.append(order.order_no)
        return order

    def _pay(self, order) -> None:
        from payments.gateways import sandbox
        from payments.models import Order
        from payments.orders.payment_attempts import payment_start

        order.refresh_from_db()
        if order.status != Order.Status.PENDING:
            return
        with TestCase.captureOnCommitCallbacks(execute=True):
            payment = payment_start(order=order, channel="sandbox")
            sandbox.sandbox_pay(payment.out_trade_no)

    # ---- actions ---------------------------------------------------------------------------------

    def buy_tier(self):
        order = self._order(self.rng.choice(self.buyers), "membership", self.rng.choice(["VIP", "VIP", "KA"]))
        if order is not None:
            self._pay(order)

    def order_twice(self):
        """Two orders for one course or camp term, paid one after the other (a double tap)."""
        user = self.rng.choice(self.buyers)
        item_type, item_id = self.rng.choice([("course", str(self.course.pk)), ("camp", str(self.term.pk))])
        first, second = self._order(user, item_type, item_id), self._order(user, item_type, item_id)
        for order in (first, second):
            if order is not None and self.rng.random() < 0.85:
                self._pay(order)

    def redeem(self):
        from members.points import mall

        user = self.rng.choice(self.buyers)
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                mall.points_redeem(
                    user=user,
                    reward_id=self.rng.choice(self.rewards).pk,
                    idempotency_key=f"k{self.rng.random()}",
                )
        except ApplicationError as exc:  # not enough points, already own it, upgrade first …
            assert exc.code, exc

    def take_included(self):
        from courses.camps import seats as camp_seats
        from courses.events import registrations as event_registrations

        user = self.rng.choice(self.buyers)
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                if self.rng.random() < 0.5:
                    event_registrations.event_register(user=user, event=self.event)
                else:
                    camp_seats.term_join(user=user, term=self.tier_term)
        except ApplicationError as exc:  # not a member, full …
            assert exc.code, exc

    def group_buy(self):
        from referrals import group_buys
        from referrals.models import GroupBuy

        user = self.rng.choice(self.buyers)
        forming = GroupBuy.objects.filter(offer=self.offer, status=GroupBuy.Status.FORMING).first()
        try:
            if forming is not None and self.rng.random() < 0.7:
                seat = group_buys.group_buy_join(user=user, group_id=forming.pk)
            else:
                seat = group_buys.group_buy_open(user=user, offer=self.offer)
        except ApplicationError as exc:
            assert exc.code, exc
            return
        order = self._order(user, "group_buy", str(seat.pk))
        if order is not None:
            self._pay(order)

    def refund(self):
        from members.models import PointsAccount
        from payments.models import Order
        from payments.orders.refunds import refund_request

        paid = list(
            Order.objects.filter(
                order_no__in=self.orders, status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED]
            )
        )
        if not paid:
            return
        order = self.rng.choice(paid)
        as_member = self.rng.random() < 0.5
        partial = not as_member and self.rng.random() < 0.3 and order.refundable_fen > 1
        amount = self.rng.randint(1, order.refundable_fen - 1) if partial else None
        before = (order.status, order.refunded_fen, _balance(order.user_id), PointsAccount.objects.count())
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                refund = refund_request(
                    order=order,
                    amount_fen=amount,
                    reason="混沌退款",
                    requested_by=order.user if as_member else self.finance,
                    self_service=as_member,
                )
        except ApplicationError as exc:  # credit_used, points_spent, window closed … — changes nothing
            assert exc.code, exc
            order.refresh_from_db()
            after = (order.status, order.refunded_fen, _balance(order.user_id), PointsAccount.objects.count())
            assert after == before, (exc.code, before, after)
            return
        assert refund.requested_by_id == (order.user_id if as_member else self.finance.pk)

    def time_passes(self):
        from payments.orders.sweeps import orders_sweep
        from referrals import group_buys

        self.clock.advance(hours=self.rng.choice([1, 12, 30, 80]))
        with TestCase.captureOnCommitCallbacks(execute=True):
            orders_sweep(now=timezone.now())
            group_buys.group_buys_expire(now=timezone.now())

    def door(self):
        """The organizer scans a random ticket: a tier ticket passes only while its tier stands."""
        from courses.events import door_checkin as event_door_checkin
        from courses.events import selectors as event_selectors
        from courses.models import EventRegistration

        ticket = EventRegistration.objects.filter(event=self.event, checked_in_at__isnull=True).first()
        if ticket is None or not ticket.ticket_code:
            return
        covered = event_selectors.tier_ticket_covered(ticket.user, self.event)
        try:
            event_door_checkin.event_check_in(
                event=self.event, code=ticket.ticket_code, staff=self.event.organizer
            )
        except ApplicationError as exc:
            assert exc.code in ("membership_ended", "ticket_not_valid"), exc
            return
        assert ticket.source != "tier" or covered, "a tier ticket was checked in without its tier"

    ACTIONS = [
        ("buy_tier", 4),
        ("order_twice", 3),
        ("redeem", 3),
        ("take_included", 3),
        ("group_buy", 2),
        ("refund", 6),
        ("time_passes", 2),
        ("door", 1),
    ]

    def step(self) -> str:
        names = [name for name, _weight in self.ACTIONS]
        name = self.rng.choices(names, [weight for _name, weight in self.ACTIONS])[0]
        getattr(self, name)()
        return name

    def check(self, history: list[str]) -> None:
        from payments.models import Refund
        from payments.wallet import ledger_check

        result = ledger_check.ledger_check()
        assert result.ok, (history, result.problems)
        problems = funding_violations(strict=True)
        assert not problems, (problems, history)
        unnamed = Refund.objects.filter(
            kind__in=[Refund.Kind.SELF_SERVICE, Refund.Kind.OPERATOR], requested_by__isnull=True
        ).exclude(reason__icontains="自动")
        assert not [r for r in unnamed if r.order.order_no in self.orders and r.reason == "混沌退款"], history


def _balance(user_id: int) -> int:
    from members.models import PointsAccount

    return PointsAccount.objects.filter(user_id=user_id).values_list("balance", flat=True).first() or 0


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEEDS)
def test_no_benefit_outlives_its_funding_under_random_refunds_upgrades_and_redemptions(
    seed, monkeypatch, settings, tmp_path_factory
):
    from payments.models import Order, Refund

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    world = BenefitWorld(random.Random(seed), Clock(monkeypatch))
    history: list[str] = []
    for _ in range(STEPS):
        history.append(world.step())
        world.check(history)
    # the run exercised what it claims to: paid tiers, refunds that went through and ones refused
    assert {"buy_tier", "refund", "redeem"} <= set(history), history
    assert Order.objects.filter(item_type="membership", paid_at__isnull=False).exists(), history
    assert Refund.objects.filter(status=Refund.Status.SUCCEEDED).exists(), history
