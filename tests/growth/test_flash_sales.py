"""Flash sales (限时特价): the sale price inside the window only, a unit held by each pending order at
that price, given back when the order closes unpaid and sold when it is paid, never more units than
the stock, at most the member's limit, and a refund that keeps the unit sold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import ApplicationError
from growth.flash_sales import selectors
from growth.flash_sales.holds import hold_release
from growth.models import FlashSale, FlashSaleHold
from payments import items
from payments.models import Order
from payments.orders.payment_attempts import order_cancel_by_member
from payments.orders.sweeps import orders_sweep
from tests.courses.factories import give_tier, ka_tier, make_course, vip_tier
from tests.factories import UserFactory
from tests.growth.flash_helpers import buy, figures, make_sale, open_order
from tests.payments.helpers import refund_order

pytestmark = pytest.mark.django_db


def quote(user, course, **kwargs):
    return items.quote(user=user, item_type="course", item_id=str(course.pk), **kwargs)


# ---- pricing ------------------------------------------------------------------------------------------------


def test_the_sale_price_applies_inside_the_window_only():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, sale_price_fen=9_900)
    member = UserFactory()
    running = quote(member, course)
    assert running.amount_fen == 9_900 and running.list_price_fen == 19_900
    assert [(line.label, line.amount_fen) for line in running.lines] == [("限时特价", -10_000)]
    assert running.context["flash_sale_id"] == sale.pk
    later = make_course(price_fen=19_900, title="还没开始")
    make_sale(item_id=later.pk, starts_in=timedelta(hours=1))
    assert quote(member, later).amount_fen == 19_900 and "flash_sale_id" not in quote(member, later).context
    ended = make_course(price_fen=19_900, title="已经结束")
    make_sale(item_id=ended.pk, starts_in=timedelta(hours=-3), lasts=timedelta(hours=1))
    assert quote(member, ended).amount_fen == 19_900
    stopped = make_course(price_fen=19_900, title="停用")
    FlashSale.objects.filter(pk=make_sale(item_id=stopped.pk).pk).update(is_active=False)
    assert quote(member, stopped).amount_fen == 19_900


def test_a_tier_discount_never_stacks_with_the_sale_the_lower_price_wins():
    vip = vip_tier()  # 10% off single purchases
    member = UserFactory()
    give_tier(member, vip)
    course = make_course(price_fen=19_900)
    make_sale(item_id=course.pk, sale_price_fen=9_900)
    with_tier = quote(member, course)
    assert with_tier.amount_fen == 9_900  # not 9_900 minus 10%
    assert with_tier.lines[-1].label == "限时特价" and with_tier.discount_fen == 10_000
    generous = make_course(price_fen=10_000, title="小课")
    make_sale(item_id=generous.pk, sale_price_fen=9_500)  # the tier price (9,000) is already lower
    kept = quote(member, generous)
    assert kept.amount_fen == 9_000 and "flash_sale_id" not in kept.context


def test_an_upgrade_keeps_its_credit_on_top_of_the_sale_price():
    vip, ka = vip_tier(), ka_tier()
    member = UserFactory()
    give_tier(member, vip)
    plain = items.quote(user=member, item_type="membership", item_id="KA")
    credit = plain.context["credit_fen"]
    assert credit > 0
    make_sale(item_type="membership", item_id="KA", sale_price_fen=ka.price_fen // 2)
    on_sale = items.quote(user=member, item_type="membership", item_id="KA")
    assert on_sale.amount_fen == ka.price_fen // 2 - credit
    assert on_sale.context["credit_fen"] == credit and on_sale.lines[-1].label == "限时特价"


def test_an_order_at_the_sale_price_holds_a_unit_and_records_the_line():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=3)
    order = open_order(user=UserFactory(), item_id=course.pk)
    assert order.amount_fen == 9_900 and order.discount_fen == 10_000
    assert order.lines == [{"label": "限时特价", "amount_fen": -10_000}]
    assert FlashSaleHold.objects.get(order=order).state == FlashSaleHold.State.HELD
    assert figures(sale) == (1, 0, 2)
    assert list(selectors.flash_sale_orders(sale)) == [order]


# ---- stock ------------------------------------------------------------------------------------------------


def test_the_last_unit_taken_meanwhile_refuses_the_order_and_writes_nothing(monkeypatch):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=1)
    late = UserFactory()
    priced = quote(late, course)  # the price the late buyer saw: the sale's
    assert priced.context["flash_sale_id"] == sale.pk
    open_order(user=UserFactory(), item_id=course.pk)  # someone else takes the last unit
    before = Order.objects.count()
    # The checkout priced before the unit went: the hold must refuse.
    monkeypatch.setattr(items, "quote", lambda **kwargs: priced)
    with pytest.raises(ApplicationError) as refused:
        open_order(user=late, item_id=course.pk)
    monkeypatch.undo()
    assert refused.value.code == "flash_sale_sold_out" and refused.value.status_code == 409
    assert Order.objects.count() == before and FlashSaleHold.objects.count() == 1
    assert figures(sale) == (1, 0, 0)
    # Priced again now, the sold-out sale no longer applies: the list price, said plainly.
    assert quote(late, course).amount_fen == 19_900


def test_the_api_answers_sold_out_with_409_and_no_order(monkeypatch):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=1)
    late = UserFactory()
    priced = quote(late, course)
    open_order(user=UserFactory(), item_id=course.pk)
    client = APIClient()
    client.force_authenticate(late)
    monkeypatch.setattr(items, "quote", lambda **kwargs: priced)
    response = client.post(
        "/api/v1/orders/", {"item_type": "course", "item_id": course.pk, "channel": "sandbox"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "flash_sale_sold_out"
    assert not Order.objects.filter(user=late).exists() and figures(sale) == (1, 0, 0)


def test_a_unit_comes_back_when_the_sweep_closes_the_unpaid_order():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=1)
    first = open_order(user=UserFactory(), item_id=course.pk)
    other = UserFactory()
    assert quote(other, course).amount_fen == 19_900  # nothing left while the first order can pay
    orders_sweep(now=timezone.now() + timedelta(hours=1))
    first.refresh_from_db()
    assert first.status == Order.Status.CLOSED
    assert FlashSaleHold.objects.get(order=first).state == FlashSaleHold.State.RELEASED
    assert figures(sale) == (0, 0, 1)
    second = open_order(user=other, item_id=course.pk)
    assert second.amount_fen == 9_900 and figures(sale) == (1, 0, 0)


def test_a_unit_comes_back_when_the_member_cancels_and_closing_twice_gives_back_once():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=2)
    member = UserFactory()
    order = open_order(user=member, item_id=course.pk)
    open_order(user=UserFactory(), item_id=course.pk)
    assert figures(sale) == (2, 0, 0)
    order_cancel_by_member(order=order)
    assert figures(sale) == (1, 0, 1)
    assert hold_release(order) is False  # a second close path finds nothing held
    assert figures(sale) == (1, 0, 1)
    # The member who cancelled may take the unit again (their cancelled order no longer counts).
    assert open_order(user=member, item_id=course.pk).amount_fen == 9_900


def test_a_paid_order_turns_its_unit_sold():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=2)
    order = buy(user=UserFactory(), item_id=course.pk)
    assert order.amount_fen == 9_900
    assert FlashSaleHold.objects.get(order=order).state == FlashSaleHold.State.SOLD
    assert figures(sale) == (0, 1, 1)


def test_a_refund_keeps_the_unit_sold():
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=2)
    member = UserFactory()
    order = buy(user=member, item_id=course.pk)
    refund_order(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert FlashSaleHold.objects.get(order=order).state == FlashSaleHold.State.SOLD
    assert figures(sale) == (0, 1, 1)
    # Nor does the member get the sale price again: their unit was had.
    assert quote(member, course).amount_fen == 19_900


# ---- per-member limit ---------------------------------------------------------------------------------------


def test_a_member_gets_the_sale_price_up_to_their_limit():
    vip_tier()
    sale = make_sale(item_type="membership", item_id="VIP", sale_price_fen=100_000, stock=5)
    member = UserFactory()
    first = buy(user=member, item_type="membership", item_id="VIP")
    assert first.amount_fen == 100_000
    renewal = items.quote(user=member, item_type="membership", item_id="VIP")
    assert renewal.amount_fen == renewal.list_price_fen and "flash_sale_id" not in renewal.context
    assert figures(sale) == (0, 1, 4)


def test_two_orders_by_one_member_priced_together_take_one_unit(monkeypatch):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk, stock=5, per_member_limit=1)
    member = UserFactory()
    priced = quote(member, course)
    open_order(user=member, item_id=course.pk)
    # The second device priced before the first order existed.
    monkeypatch.setattr(items, "quote", lambda **kwargs: priced)
    with pytest.raises(ApplicationError) as refused:
        open_order(user=member, item_id=course.pk)
    assert refused.value.code == "flash_sale_limit_reached"
    assert Order.objects.filter(user=member).count() == 1 and figures(sale) == (1, 0, 4)


def test_a_sale_that_ended_between_pricing_and_ordering_refuses_the_order(monkeypatch):
    course = make_course(price_fen=19_900)
    sale = make_sale(item_id=course.pk)
    member = UserFactory()
    priced = quote(member, course)
    FlashSale.objects.filter(pk=sale.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(items, "quote", lambda **kwargs: priced)
    with pytest.raises(ApplicationError) as refused:
        open_order(user=member, item_id=course.pk)
    assert refused.value.code == "flash_sale_ended" and not Order.objects.filter(user=member).exists()


def test_the_course_page_and_api_show_the_price_the_order_will_charge(client):
    course = make_course(price_fen=19_900)
    make_sale(item_id=course.pk, sale_price_fen=9_900)
    member = UserFactory()
    client.force_login(member)
    api = APIClient()
    api.force_authenticate(member)

    price = api.get(f"/api/v1/courses/{course.pk}/").json()["price"]
    page = client.get(f"/courses/{course.pk}/").content.decode()
    order = open_order(user=member, item_id=course.pk)

    assert price["amount_fen"] == order.amount_fen == 9_900
    assert [line["label"] for line in price["lines"]] == ["限时特价"]
    assert page.count("¥99") >= 2  # the buy block says the sale price too, not only the sale box
