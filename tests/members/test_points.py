"""Points: append-only history, exactly once per idempotency key, never overdrawn (DB-level)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from core.errors import ApplicationError
from members.models import PointsAccount, PointsEntry
from members.points.selectors import points_balance, points_history
from members.points.services import points_award, points_clawback, points_spend
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM, register_test_items
from tests.payments.helpers import create_paid_order, refund_order


def test_award_and_spend_move_the_balance_and_write_history(member):
    points_award(user=member, amount=50, reason="打卡第 1 天", idempotency_key="checkin:1:1")
    points_award(user=member, amount=30, reason="推荐好友", idempotency_key="referral:9")
    entry = points_spend(user=member, amount=60, reason="兑换课程", idempotency_key="redeem:1")
    assert points_balance(member) == 20
    assert entry.amount == -60 and entry.balance_after == 20
    assert [e.amount for e in points_history(member)] == [-60, 30, 50]
    account = PointsAccount.objects.get(user=member)
    assert (account.earned_total, account.spent_total) == (80, 60)


def test_the_same_idempotency_key_counts_once(member):
    first = points_award(user=member, amount=10, reason="打卡", idempotency_key="checkin:7:2026-11-22")
    again = points_award(user=member, amount=10, reason="打卡", idempotency_key="checkin:7:2026-11-22")
    assert first.pk == again.pk
    assert points_balance(member) == 10
    spent = points_spend(user=member, amount=4, reason="x", idempotency_key="spend:1")
    assert points_spend(user=member, amount=4, reason="x", idempotency_key="spend:1").pk == spent.pk
    assert points_balance(member) == 6


def test_spending_more_than_held_is_refused_and_changes_nothing(member):
    points_award(user=member, amount=100, reason="a", idempotency_key="a")
    with pytest.raises(ApplicationError) as excinfo:
        points_spend(user=member, amount=101, reason="兑换", idempotency_key="too-much")
    assert excinfo.value.code == "insufficient_points"
    assert excinfo.value.extra == {"balance": 100, "needed": 101}
    assert points_balance(member) == 100
    assert not PointsEntry.objects.filter(idempotency_key="too-much").exists()


def test_spending_without_an_account_is_refused(member):
    with pytest.raises(ApplicationError) as excinfo:
        points_spend(user=member, amount=1, reason="x", idempotency_key="k")
    assert excinfo.value.code == "insufficient_points"


def test_a_key_used_by_another_user_is_a_conflict(member, other):
    points_award(user=member, amount=5, reason="a", idempotency_key="shared")
    with pytest.raises(ApplicationError) as excinfo:
        points_award(user=other, amount=5, reason="a", idempotency_key="shared")
    assert excinfo.value.code == "idempotency_conflict"
    assert points_balance(other) == 0


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_non_positive_or_non_integer_amounts_are_programming_errors(member, amount):
    with pytest.raises((ValueError, TypeError)):
        points_award(user=member, amount=amount, reason="x", idempotency_key=f"bad-{amount}")
    with pytest.raises((ValueError, TypeError)):
        points_spend(user=member, amount=amount, reason="x", idempotency_key=f"bad-s-{amount}")


def test_missing_idempotency_key_is_refused(member):
    with pytest.raises(ValueError):
        points_award(user=member, amount=1, reason="x", idempotency_key="")


def test_history_is_append_only(member):
    entry = points_award(user=member, amount=5, reason="a", idempotency_key="a")
    entry.amount = 500
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_database_refuses_a_negative_balance_even_around_the_service(member):
    points_award(user=member, amount=5, reason="a", idempotency_key="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(user=member).update(balance=-1, spent_total=6)


def test_clawback_takes_what_is_left_and_never_overdraws(member):
    points_award(user=member, amount=30, reason="a", idempotency_key="a")
    entry = points_clawback(user=member, amount=50, reason="退款扣回", idempotency_key="claw")
    assert entry.amount == -30 and points_balance(member) == 0
    assert points_clawback(user=member, amount=5, reason="x", idempotency_key="claw2") is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_never_overdraw():
    user = UserFactory()
    points_award(user=user, amount=100, reason="seed", idempotency_key="seed")

    def spend(index: int) -> str:
        try:
            points_spend(user=user, amount=30, reason="兑换", idempotency_key=f"spend-{index}")
            return "ok"
        except ApplicationError as exc:
            return exc.code

    outcomes = run_together([lambda i=i: spend(i) for i in range(10)])
    assert outcomes.count("ok") == 3 and outcomes.count("insufficient_points") == 7
    assert points_balance(user) == 10
    assert sum(PointsEntry.objects.filter(user=user).values_list("amount", flat=True)) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_with_one_key_count_once():
    user = UserFactory()

    def award():
        return points_award(user=user, amount=20, reason="打卡", idempotency_key="checkin:same")

    ids = [entry.pk for entry in run_together([award] * 6)]
    assert len(set(ids)) == 1 and len(ids) == 6
    assert points_balance(user) == 20


# ---- purchases earn points -------------------------------------------------------------------------------


@pytest.fixture
def test_items():
    log, unregister = register_test_items()
    yield log
    unregister()


def test_a_paid_purchase_earns_points_and_a_refund_takes_them_back(member, test_items, settings):
    settings.POINTS_PER_YUAN = 1
    order = create_paid_order(user=member, item_type=TEST_ITEM, item_id="A")  # ¥99
    assert points_balance(member) == 99
    refund_order(order=order, amount_fen=5000)  # ¥50 back
    assert points_balance(member) == 49
    refund_order(order=order)  # the rest
    assert points_balance(member) == 0


def test_refund_after_the_points_were_spent_is_refused_and_never_overdraws(member, test_items, settings):
    from payments.orders.refunds import refund_request

    settings.POINTS_PER_YUAN = 1
    order = create_paid_order(user=member, item_type=TEST_ITEM, item_id="A")
    points_spend(user=member, amount=90, reason="兑换", idempotency_key="spent")
    with pytest.raises(ApplicationError) as refused:
        refund_request(order=order, amount_fen=None, reason="退款", requested_by=member, self_service=True)
    assert refused.value.code == "points_spent" and refused.value.extra["points_balance"] == 9
    assert points_balance(member) == 9 and not order.refunds.exists()


# ---- the 新人礼包 (sign-up bonus) ----------------------------------------------------------------------------


def test_a_new_member_gets_the_signup_bonus_once_with_its_reason(settings, member, client):
    from members.auth.services import user_signed_up

    settings.POINTS_SIGNUP_BONUS = 500
    user_signed_up(user=member, source="web")
    user_signed_up(user=member, source="web")  # a repeated hook pays nothing twice
    assert points_balance(member) == 500
    entry = PointsEntry.objects.get(user=member)
    assert (
        entry.reason == "新人礼包：注册赠送 500 积分" and entry.idempotency_key == f"signup-bonus:{member.pk}"
    )
    client.force_login(member)
    page = client.get("/account/points/").content.decode()
    assert "新人礼包：注册赠送 500 积分" in page and "新会员注册即得新人礼包 500 积分" in page


def test_no_signup_bonus_when_it_is_off(settings, member, client):
    from members.auth.services import user_signed_up

    settings.POINTS_SIGNUP_BONUS = 0
    user_signed_up(user=member, referral_code="", source="miniprogram")
    assert points_balance(member) == 0 and not PointsEntry.objects.filter(user=member).exists()
    client.force_login(member)
    assert "新人礼包" not in client.get("/account/points/").content.decode()
