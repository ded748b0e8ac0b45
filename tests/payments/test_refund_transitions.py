"""The refund's state machine: `Refund.TRANSITIONS` lists the legal moves and
`payments.orders.transitions.refund_transition` is the one function that makes them."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from payments.models import Refund
from payments.orders.errors import IllegalRefundTransition
from payments.orders.transitions import refund_transition
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db

R = Refund.Status
LEGAL = {
    (R.PENDING, R.PROCESSING),
    (R.PENDING, R.SUCCEEDED),
    (R.PENDING, R.CLOSED),
    (R.PENDING, R.ABNORMAL),
    (R.PROCESSING, R.SUCCEEDED),
    (R.PROCESSING, R.CLOSED),
    (R.PROCESSING, R.ABNORMAL),
}


@pytest.fixture
def refund(buyer):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    return Refund.objects.create(
        order=order,
        payment=order.payments.get(),
        out_refund_no=f"R{order.order_no}T",
        amount_fen=order.amount_fen,
        kind=Refund.Kind.OPERATOR,
    )


def test_the_table_names_every_status_and_ended_refunds_are_final():
    assert set(Refund.TRANSITIONS) == set(R.values)
    assert {(a, b) for a, moves in Refund.TRANSITIONS.items() for b in moves} == LEGAL
    for ended in (R.SUCCEEDED, R.CLOSED, R.ABNORMAL):
        assert not Refund.TRANSITIONS[ended]


@pytest.mark.parametrize(("start", "to"), sorted(LEGAL))
def test_legal_moves_are_saved_and_an_ended_refund_gets_its_completion_time(refund, start, to):
    Refund.objects.filter(pk=refund.pk).update(status=start)
    refund.refresh_from_db()
    with transaction.atomic():
        refund_transition(refund=refund, to=to, updates={"last_error": "x"})
    saved = Refund.objects.get(pk=refund.pk)
    assert (saved.status, saved.last_error) == (to, "x")
    assert (saved.completed_at is not None) == (to not in Refund.ACTIVE)


@pytest.mark.parametrize(("start", "to"), sorted(set(itertools.product(R.values, R.values)) - LEGAL))
def test_illegal_moves_are_refused_and_change_nothing(refund, start, to):
    Refund.objects.filter(pk=refund.pk).update(status=start)
    refund.refresh_from_db()
    with pytest.raises(IllegalRefundTransition) as excinfo:
        refund_transition(refund=refund, to=to)
    assert excinfo.value.code == "illegal_refund_transition"
    assert excinfo.value.extra == {"from": start, "to": to}
    saved = Refund.objects.get(pk=refund.pk)
    assert saved.status == start and saved.completed_at is None
