"""Concurrency on real PostgreSQL with threads: the ledger stays exact when requests and jobs race."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from payments.models import AccountKind, Earning, SettlementRun, Transaction, Withdrawal
from payments.wallet import earnings, ledger, settlement, withdrawal_approval
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.payments.ledger_support import assert_ledger_clean, bank_withdrawal, earn, finance_user, set_limits
from tests.payments.wechat_support import api_client, give_openid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def held_earnings(users, *, per_user: int, amount_fen: int = 100) -> int:
    """Many matured held earnings, accrued through the ledger in one balanced posting per member."""
    due = timezone.now() - timedelta(minutes=1)
    for user in users:
        with transaction.atomic():
            _held_earnings_of(user, per_user=per_user, amount_fen=amount_fen, due=due)
    return len(users) * per_user


def _held_earnings_of(user, *, per_user: int, amount_fen: int, due) -> None:
    rows = Earning.objects.bulk_create(
        [
            Earning(
                user=user,
                amount_fen=amount_fen,
                source="commission",
                hold_until=due,
                idempotency_key=f"bulk:{user.pk}:{i}",
            )
            for i in range(per_user)
        ]
    )
    accounts = ledger.lock_accounts_of_member(user.pk)
    ledger.post_transaction(
        kind=Transaction.Kind.ACCRUE,
        key=f"bulk-accrue:{user.pk}",
        user_id=user.pk,
        reference=f"earning:{rows[0].pk}",
        description="bulk",
        lines=[
            (accounts[AccountKind.EARNINGS_PENDING], amount_fen * per_user),
            (ledger.system_account(AccountKind.COMMISSION_EXPENSE), -amount_fen * per_user),
        ],
    )


def test_twenty_concurrent_full_balance_withdrawals_accept_exactly_one():
    # given a member with ¥88 available and no daily limit in the way
    set_limits(daily_count_limit=100)
    member = UserFactory()
    give_openid(member)
    earn(member, 8_800)

    # when the member fires 20 withdrawals of the whole balance at the same instant
    def withdraw():
        response = api_client(member).post(
            "/api/v1/wallet/withdrawals/", {"amount_fen": 8_800}, format="json"
        )
        return response.status_code, response.json().get("code")

    results = run_together([withdraw for _ in range(20)])

    # then exactly one is accepted; the others see an empty balance
    assert sorted(results).count((201, None)) == 1, results
    assert all(r == (400, "insufficient_balance") for r in results if r != (201, None)), results
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.withdrawing_fen) == (0, 8_800)
    assert Withdrawal.objects.count() == 1 and Transaction.objects.filter(kind="withdraw").count() == 1
    assert_ledger_clean()


def test_two_settlement_runs_at_once_settle_each_earning_exactly_once():
    # given 2,400 matured earnings of 40 members, one of whom owes ¥5
    users = [UserFactory() for _ in range(40)]
    total = held_earnings(users, per_user=60)
    earnings.earning_deduct(user=users[7], amount_fen=500, idempotency_key="owed")

    # when two settlement runs start at the same instant with small batches
    runs = run_together([lambda: settlement.settle_due(batch_size=40) for _ in range(2)])

    # then every earning was settled by exactly one of them, and nothing twice
    assert all(isinstance(run, SettlementRun) for run in runs), runs
    assert sum(run.earnings_count for run in runs) == total
    assert all(run.earnings_count > 0 for run in runs), [
        r.earnings_count for r in runs
    ]  # they shared the work
    assert not Earning.objects.filter(status="held").exists()
    assert set(Earning.objects.values_list("settled_run", flat=True)) == {run.pk for run in runs}
    for user in users:
        balances = ledger.balances(user)
        expected = 6_000 - (500 if user == users[7] else 0)
        assert (balances.pending_fen, balances.available_fen, balances.receivable_fen) == (0, expected, 0)
    assert sum(run.repaid_fen for run in runs) == 500
    assert settlement.settle_due().earnings_count == 0
    assert_ledger_clean()


def test_refunds_racing_the_settlement_void_or_claw_back_each_earning_once():
    # given 300 matured earnings of 3 members
    users = [UserFactory() for _ in range(3)]
    held_earnings(users, per_user=100, amount_fen=250)
    matured = list(Earning.objects.order_by("pk"))

    # when every earning is refunded while settlement runs
    def refund_all():
        for earning in matured:
            earnings.earning_reverse(earning=earning, amount_fen=250, idempotency_key=f"refund:{earning.pk}")

    results = run_together([lambda: settlement.settle_due(batch_size=20), refund_all])
    assert not any(isinstance(r, Exception) for r in results), results

    # then each earning ends voided (refunded while held) or clawed back (refunded after settlement)
    statuses = set(Earning.objects.values_list("status", flat=True))
    assert statuses <= {"voided", "clawed_back"}
    for user in users:
        assert ledger.balances(user) == ledger.Balances()
    assert Transaction.objects.filter(kind__in=["void", "clawback"]).count() == 300
    assert_ledger_clean()


def test_the_same_accrual_delivered_concurrently_posts_once():
    member = UserFactory()
    hold = timezone.now() + timedelta(days=7)

    def accrue():
        return earnings.earning_accrue(
            user=member, amount_fen=990, source="tip", idempotency_key="tip:SAME", hold_until=hold
        ).pk

    results = run_together([accrue for _ in range(10)])
    assert len(set(results)) == 1, results
    assert Earning.objects.count() == 1 and Transaction.objects.filter(kind="accrue").count() == 1
    assert ledger.balances(member).pending_fen == 990
    assert_ledger_clean()


def test_two_operators_approving_at_once_approve_once():
    member = UserFactory()
    give_openid(member)
    earn(member, 5_000)
    withdrawal = bank_withdrawal(member, 5_000)
    a, b = finance_user(), finance_user()

    def approve(operator):
        try:
            return withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=operator).status
        except ApplicationError as exc:
            return exc.code

    results = run_together([lambda: approve(a), lambda: approve(b)])
    assert sorted(results) == ["already_reviewed", "approved"], results
    assert withdrawal.events.filter(to_status="approved").count() == 1
