"""The state machines of commissions and groups: every move in their transition tables is made by the one
function that moves them, and every other move (including from a final state) is refused."""

from __future__ import annotations

from itertools import product

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from referrals import commissions, group_buys
from referrals.commissions import COMMISSION_TRANSITIONS, commission_transition
from referrals.group_buys import GROUP_BUY_TRANSITIONS, group_buy_transition
from referrals.models import Commission, GroupBuy
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.referrals import factories as f

pytestmark = pytest.mark.django_db

C = Commission.Status
G = GroupBuy.Status

COMMISSION_MOVES = list(product(C.values, C.values))
GROUP_MOVES = list(product(G.values, G.values))


def test_every_status_has_a_row_in_its_table():
    assert set(COMMISSION_TRANSITIONS) == set(C.values)
    assert set(GROUP_BUY_TRANSITIONS) == set(G.values)
    assert COMMISSION_TRANSITIONS[C.REVERSED] == COMMISSION_TRANSITIONS[C.SKIPPED] == set()
    assert GROUP_BUY_TRANSITIONS[G.SUCCEEDED] == GROUP_BUY_TRANSITIONS[G.EXPIRED] == set()


@pytest.fixture
def commission(alice, bob) -> Commission:
    """A 10% commission Alice earned on Bob's ¥99 order, accrued."""
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")
    return Commission.objects.get()


LEGAL_COMMISSION_MOVES = [(a, b) for a, b in COMMISSION_MOVES if b in COMMISSION_TRANSITIONS[a]]
ILLEGAL_COMMISSION_MOVES = [(a, b) for a, b in COMMISSION_MOVES if b not in COMMISSION_TRANSITIONS[a]]
LEGAL_GROUP_MOVES = [(a, b) for a, b in GROUP_MOVES if b in GROUP_BUY_TRANSITIONS[a]]
ILLEGAL_GROUP_MOVES = [(a, b) for a, b in GROUP_MOVES if b not in GROUP_BUY_TRANSITIONS[a]]


@pytest.mark.parametrize(("start", "to"), LEGAL_COMMISSION_MOVES)
def test_a_legal_commission_move_is_saved(commission, start, to):
    Commission.objects.filter(pk=commission.pk).update(status=start)
    commission.refresh_from_db()
    commission_transition(commission=commission, to=to, updates={"reversed_fen": 100})
    commission.refresh_from_db()
    assert (commission.status, commission.reversed_fen) == (to, 100)


@pytest.mark.parametrize(("start", "to"), ILLEGAL_COMMISSION_MOVES)
def test_an_illegal_commission_move_is_refused_before_anything_is_written(start, to):
    commission = Commission(
        status=start, reversed_fen=0
    )  # unsaved: a refused move never reaches the database
    with pytest.raises(ApplicationError) as exc:
        commission_transition(commission=commission, to=to, updates={"reversed_fen": 100})
    assert (exc.value.code, exc.value.status_code) == ("illegal_transition", 409)
    assert exc.value.extra == {"from": start, "to": to}
    assert (commission.status, commission.reversed_fen) == (start, 0)


def test_refunds_move_a_commission_through_the_table(commission):
    order = commission.order
    refund = type("Refund", (), {"out_refund_no": "R1"})()
    order.refunded_fen = 4_950  # half refunded
    assert commissions.commission_reverse_for_refund(order, refund) == [commission]
    commission.refresh_from_db()
    assert (commission.status, commission.reversed_fen) == (C.PARTIALLY_REVERSED, 495)
    refund.out_refund_no = "R2"
    order.refunded_fen = order.amount_fen
    commissions.commission_reverse_for_refund(order, refund)
    commission.refresh_from_db()
    assert (commission.status, commission.reversed_fen) == (C.REVERSED, 990)


@pytest.fixture
def group() -> GroupBuy:
    """A 3-person group whose initiator has not paid yet."""
    seat = group_buys.group_buy_open(user=UserFactory(), offer=f.offer(size=3))
    return GroupBuy.objects.select_related("offer").get(pk=seat.group_id)


@pytest.mark.parametrize(("start", "to"), LEGAL_GROUP_MOVES)
def test_a_legal_group_move_is_saved_with_its_times(group, start, to):
    # a succeeded group is full (a CHECK constraint)
    full = {"paid_count": group.size} if to == G.SUCCEEDED else {}
    GroupBuy.objects.filter(pk=group.pk).update(status=start)
    group.refresh_from_db()
    now = timezone.now()
    group_buy_transition(group=group, to=to, now=now, updates=full)
    group.refresh_from_db()
    assert group.status == to
    if to == G.FORMING:
        assert (group.opened_at, group.expires_at, group.ended_at) == (
            now,
            now + group.offer.time_limit,
            None,
        )
    else:
        assert group.ended_at == now
        assert group.succeeded_at == (now if to == G.SUCCEEDED else None)


@pytest.mark.parametrize(("start", "to"), ILLEGAL_GROUP_MOVES)
def test_an_illegal_group_move_is_refused_before_anything_is_written(start, to):
    group = GroupBuy(status=start)  # unsaved: a refused move never reaches the database
    with pytest.raises(ApplicationError) as exc:
        group_buy_transition(group=group, to=to, now=timezone.now())
    assert (exc.value.code, exc.value.status_code) == ("illegal_transition", 409)
    assert exc.value.extra == {"from": start, "to": to}
    assert (group.status, group.ended_at) == (start, None)
