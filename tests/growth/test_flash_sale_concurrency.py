"""The last flash-sale unit raced by 20 buyers at once goes to exactly one pending order, and comes back
for another buyer when that order closes unpaid (real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from growth.models import FlashSaleHold
from payments.models import Order
from payments.orders.checkout import order_create
from payments.orders.sweeps import orders_sweep
from tests.concurrency import run_together
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.flash_helpers import figures, make_sale, open_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_last_unit_raced_by_twenty_buyers_is_held_by_one_order_then_returns():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=1)
    buyers = [UserFactory() for _i in range(20)]
    results = run_together(
        [
            lambda b=b: order_create(user=b, item_type="course", item_id=str(course.pk), channel="sandbox")
            for b in buyers
        ]
    )
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(orders) + len(refused) == 20, results
    at_sale_price = [o for o in orders if o.amount_fen == 9_900]
    # Exactly one order holds the unit; a buyer who priced after it was gone pays the list price, and
    # one who priced before but ordered after is refused — nobody else gets the sale price.
    assert len(at_sale_price) == 1, results
    assert all(o.amount_fen == 19_900 for o in orders if o not in at_sale_price)
    assert {r.code for r in refused} <= {"flash_sale_sold_out"}
    assert FlashSaleHold.objects.count() == 1 and figures(sale) == (1, 0, 0)
    winner = at_sale_price[0]
    assert FlashSaleHold.objects.get().order_id == winner.pk

    orders_sweep(now=timezone.now() + timedelta(hours=1))  # the winner never paid
    winner.refresh_from_db()
    assert winner.status == Order.Status.CLOSED and figures(sale) == (0, 0, 1)
    latecomer = UserFactory()
    assert open_order(user=latecomer, item_id=course.pk).amount_fen == 9_900
    assert figures(sale) == (1, 0, 0)
