"""The double-entry ledger: accrual, void, settlement, clawback, deduction — balanced, idempotent,
append-only, with bad inputs refused and `ledger_check` naming the first discrepancy."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditLog
from payments.models import Account, Earning, Entry, LedgerCheckRun, SettlementRun, Transaction
from payments.wallet import earnings, ledger, ledger_check, settlement
from payments.wallet import tasks as wallet_tasks
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.ledger_support import assert_ledger_clean, earn

pytestmark = pytest.mark.django_db

LATER = timedelta(days=30)


@pytest.fixture
def member(db):
    return UserFactory(nickname="推广达人")


def entries_of(txn: Transaction) -> dict[str, int]:
    return {
        (e.account.kind if e.account.user_id else f"system:{e.account.kind}"): e.amount_fen
        for e in txn.entries.select_related("account")
    }


def test_an_earning_is_held_then_settled_to_available_by_a_run_it_records(member, buyer):
    # given a commission on a real paid order, held for the refund window
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    earning = earnings.earning_accrue(
        user=member,
        amount_fen=1_500,
        source="commission",
        idempotency_key=f"commission:{order.order_no}",
        hold_until=timezone.now() + timedelta(days=7),
        order=order,
        description="推广佣金",
    )
    assert earning.status == "held" and earning.order == order
    assert ledger.balances(member).pending_fen == 1_500 and ledger.balances(member).available_fen == 0
    accrual = Transaction.objects.get(idempotency_key=f"accrue:commission:{order.order_no}")
    assert entries_of(accrual) == {"earnings_pending": 1_500, "system:commission_expense": -1_500}

    # when settlement runs before the hold ends, nothing moves
    early = settlement.settle_due()
    assert early.earnings_count == 0 and ledger.balances(member).pending_fen == 1_500

    # when it runs after the hold ends
    run = settlement.settle_due(now=timezone.now() + LATER)

    # then the earning is available and points to the run that settled it
    earning.refresh_from_db()
    assert earning.status == "settled" and earning.settled_run == run and earning.settled_at
    assert run.status == "finished" and run.earnings_count == 1 and run.amount_fen == 1_500
    balances = ledger.balances(member)
    assert (balances.pending_fen, balances.available_fen, balances.receivable_fen) == (0, 1_500, 0)
    settle_txn = Transaction.objects.get(kind="settle", user=member)
    assert entries_of(settle_txn) == {"earnings_pending": -1_500, "earnings_available": 1_500}
    assert_ledger_clean()


def test_accrue_twice_with_one_key_returns_the_first_row_and_posts_once(member):
    hold = timezone.now() + timedelta(days=7)
    first = earnings.earning_accrue(
        user=member, amount_fen=300, source="tip", idempotency_key="tip:X", hold_until=hold
    )
    again = earnings.earning_accrue(
        user=member, amount_fen=300, source="tip", idempotency_key="tip:X", hold_until=hold
    )
    assert again.pk == first.pk
    assert Earning.objects.count() == 1 and Transaction.objects.filter(kind="accrue").count() == 1
    assert ledger.balances(member).pending_fen == 300


def test_void_inside_the_hold_partially_then_fully_and_never_settles(member):
    earning = earn(member, 1_000, settle=False, source="tip")
    earnings.earning_reverse(earning=earning, amount_fen=400, idempotency_key="refund-1")
    assert earning.reversed_fen == 400 and earning.status == "held"
    assert ledger.balances(member).pending_fen == 600
    # the same refund delivered twice changes nothing
    earnings.earning_reverse(earning=earning, amount_fen=400, idempotency_key="refund-1")
    assert ledger.balances(member).pending_fen == 600
    assert Transaction.objects.filter(kind="void").count() == 1

    earnings.earning_void(earning=earning, amount_fen=600, idempotency_key="refund-2")
    earning.refresh_from_db()
    assert earning.status == "voided" and earning.reversed_fen == 1_000
    assert settlement.settle_due(now=timezone.now() + LATER).earnings_count == 0
    assert ledger.balances(member) == ledger.Balances()
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_reverse(earning=earning, amount_fen=1, idempotency_key="refund-3")
    assert exc.value.code == "earning_already_reversed"
    assert_ledger_clean()


def test_a_held_earning_settles_its_remainder_after_a_partial_void(member):
    earning = earn(member, 1_000, settle=False)
    earnings.earning_reverse(earning=earning, amount_fen=250, idempotency_key="partial")
    settlement.settle_due(now=timezone.now() + LATER)
    earning.refresh_from_db()
    assert earning.status == "settled"
    assert ledger.balances(member).available_fen == 750
    assert_ledger_clean()


def test_clawback_takes_available_first_then_receivable_and_new_settlements_repay_it(member):
    # given ¥10 settled and ¥8 of it already deducted (available ¥2)
    earning = earn(member, 1_000)
    earnings.earning_deduct(user=member, amount_fen=800, idempotency_key="correction-1", reason="分润更正")
    assert ledger.balances(member).available_fen == 200

    # when the order behind the ¥10 is refunded after settlement
    earnings.earning_reverse(earning=earning, amount_fen=1_000, idempotency_key="late-refund")

    # then ¥2 comes from available and ¥8 becomes owed
    earning.refresh_from_db()
    assert earning.status == "clawed_back"
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.receivable_fen, balances.owed_fen) == (0, -800, 800)
    clawback = Transaction.objects.get(kind="clawback")
    assert entries_of(clawback) == {
        "earnings_available": -200,
        "receivable": -800,
        "system:commission_expense": 1_000,
    }

    # when new earnings settle, they repay what is owed first
    earn(member, 500)
    assert (ledger.balances(member).available_fen, ledger.balances(member).receivable_fen) == (0, -300)
    run = settlement.settle_due()
    assert run.repaid_fen == 0  # nothing new to settle
    second = earn(member, 1_000)
    assert second.settled_run.repaid_fen == 300
    assert (ledger.balances(member).available_fen, ledger.balances(member).receivable_fen) == (700, 0)
    assert_ledger_clean()


def test_deduct_is_idempotent_and_goes_negative_only_on_receivable(member):
    earn(member, 300)
    first = earnings.earning_deduct(user=member, amount_fen=500, idempotency_key="staff:2026-10")
    again = earnings.earning_deduct(user=member, amount_fen=500, idempotency_key="staff:2026-10")
    assert first.pk == again.pk
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.receivable_fen) == (0, -200)
    assert entries_of(first)["system:adjustments"] == 500
    assert_ledger_clean()


@pytest.mark.parametrize("bad", [0, -1, -100, 1.5, "100", True, None])
def test_non_positive_or_non_integer_amounts_are_refused_everywhere(member, bad):
    hold = timezone.now()
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_accrue(
            user=member, amount_fen=bad, source="tip", idempotency_key="k", hold_until=hold
        )
    assert exc.value.code == "invalid_amount"
    earning = earn(member, 100, settle=False)
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_reverse(earning=earning, amount_fen=bad, idempotency_key="r")
    assert exc.value.code == "invalid_amount"
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_deduct(user=member, amount_fen=bad, idempotency_key="d")
    assert exc.value.code == "invalid_amount"
    assert Transaction.objects.count() == 1  # only the valid accrual


def test_other_bad_inputs_are_refused(member):
    hold = timezone.now()
    for kwargs, code in (
        ({"idempotency_key": ""}, "invalid_idempotency_key"),
        ({"idempotency_key": "x" * 151}, "invalid_idempotency_key"),
        ({"source": ""}, "invalid_source"),
        ({"hold_until": hold.replace(tzinfo=None)}, "invalid_hold_until"),
        ({"user": UserFactory.build()}, "invalid_user"),
    ):
        arguments = {
            "user": member,
            "amount_fen": 100,
            "source": "tip",
            "idempotency_key": "ok",
            "hold_until": hold,
            **kwargs,
        }
        with pytest.raises(ApplicationError) as exc:
            earnings.earning_accrue(**arguments)
        assert exc.value.code == code
    earning = earn(member, 100, settle=False)
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_reverse(earning=earning, amount_fen=101, idempotency_key="too-much")
    assert exc.value.code == "reverse_exceeds_earning"
    with pytest.raises(ApplicationError) as exc:
        earnings.earning_clawback(earning=earning, amount_fen=50, idempotency_key="not-settled")
    assert exc.value.code == "earning_wrong_state"
    assert ledger.balances(member).pending_fen == 100


def test_unknown_sources_are_accepted_on_a_generic_expense_account(member):
    earning = earn(member, 700, source="group_buy_bonus")
    assert earning.source_label == "group_buy_bonus"
    account = Account.objects.get(user=None, kind="earnings_expense")
    assert sum(account.entries.values_list("amount_fen", flat=True)) == -700


@pytest.mark.parametrize("method", ["sql", "orm"])
def test_settlement_paths_agree_across_batch_boundaries_and_rerun_settles_nothing(method):
    if method == "sql" and connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL SQL")
    # given three members, one of them owing ¥3, with earnings due and not yet due
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    for user, amounts in ((a, [100, 200, 300]), (b, [50]), (c, [400, 600])):
        for amount in amounts:
            earn(user, amount, settle=False)
            Earning.objects.filter(user=user, amount_fen=amount).update(
                hold_until=timezone.now() - timedelta(hours=1)
            )
    not_due = earn(a, 999, settle=False)
    earnings.earning_deduct(user=c, amount_fen=300, idempotency_key="owed")

    # when settled in batches of two (a member's earnings span batches)
    run = settlement.settle_due(batch_size=2, method=method)

    # then every due earning settled once, by this run, and c repaid what it owed first
    assert run.earnings_count == 6 and run.batches == 3 and run.amount_fen == 1_650 and run.repaid_fen == 300
    assert set(Earning.objects.filter(status="settled").values_list("settled_run", flat=True)) == {run.pk}
    assert ledger.balances(a).available_fen == 600 and ledger.balances(a).pending_fen == 999
    assert ledger.balances(b).available_fen == 50
    assert (ledger.balances(c).available_fen, ledger.balances(c).receivable_fen) == (700, 0)
    not_due.refresh_from_db()
    assert not_due.status == "held"
    assert run.max_batch_ms > 0

    again = settlement.settle_due(batch_size=2, method=method)
    assert again.earnings_count == 0 and Transaction.objects.filter(kind="settle").count() == 4
    assert_ledger_clean()


def test_a_failing_settlement_batch_rolls_back_and_the_run_says_failed(member, monkeypatch):
    earn(member, 100, settle=False)
    Earning.objects.update(hold_until=timezone.now() - timedelta(seconds=1))

    real_sql, real_orm = settlement._settle_batch_sql, settlement._settle_batch_orm

    def broken(real):
        def batch(**kwargs):
            real(**kwargs)  # the whole batch is written …
            raise RuntimeError("connection lost")  # … and then the transaction dies before commit

        return batch

    monkeypatch.setattr(settlement, "_settle_batch_sql", broken(real_sql))
    monkeypatch.setattr(settlement, "_settle_batch_orm", broken(real_orm))
    with pytest.raises(RuntimeError):
        settlement.settle_due()
    assert SettlementRun.objects.get().status == "failed"
    assert Earning.objects.get().status == "held"
    assert (
        ledger.balances(member).pending_fen == 100 and not Transaction.objects.filter(kind="settle").exists()
    )
    monkeypatch.undo()
    assert settlement.settle_due().earnings_count == 1
    assert_ledger_clean()


# ---- the database refuses what the Python path never does --------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_an_unbalanced_transaction(member):
    earning = earn(member, 100, settle=False)
    txn = Transaction.objects.get(kind="accrue")
    pending = Account.objects.get(user=member, kind="earnings_pending")
    with pytest.raises(DatabaseError, match="does not sum to zero"), transaction.atomic():
        Entry.objects.create(transaction=txn, account=pending, amount_fen=5)
    with pytest.raises(DatabaseError, match="does not sum to zero"), transaction.atomic():
        new = Transaction.objects.create(kind="adjust", idempotency_key="lonely")
        Entry.objects.bulk_create(
            [
                Entry(transaction=new, account=pending, amount_fen=10),
                Entry(transaction=new, account=pending, amount_fen=-9),
            ]
        )
    assert earning.remaining_fen == 100
    assert_ledger_clean()


def test_entries_and_transactions_are_append_only(member):
    earn(member, 100)
    entry = Entry.objects.first()
    txn = Transaction.objects.first()
    for statement in (
        lambda: Entry.objects.filter(pk=entry.pk).update(amount_fen=1),
        lambda: Entry.objects.filter(pk=entry.pk).delete(),
        lambda: Transaction.objects.filter(pk=txn.pk).update(description="edited"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            statement()
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_member_balances_cannot_go_below_zero_in_the_database(member):
    earn(member, 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(user=member, kind="earnings_available").update(balance_fen=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(user=member, kind="receivable").update(balance_fen=1)


# ---- ledger_check -------------------------------------------------------------------------------------------


def test_ledger_check_is_clean_and_records_the_result_for_operators(member, capsys):
    earn(member, 100)
    call_command("ledger_check")
    assert "ledger OK" in capsys.readouterr().out
    run = LedgerCheckRun.objects.get()
    assert run.ok and run.trigger == "command" and run.transactions_checked == 2


def test_ledger_check_names_the_first_discrepancy_and_exits_non_zero(member):
    earn(member, 100)
    account = Account.objects.get(user=member, kind="earnings_available")
    Account.objects.filter(pk=account.pk).update(balance_fen=90)  # a cache gone wrong
    with pytest.raises(CommandError) as exc:
        call_command("ledger_check")
    assert f"account #{account.pk}" in str(exc.value) and "caches 90 fen" in str(exc.value)
    assert "entries sum to 100 fen" in str(exc.value)
    Account.objects.filter(pk=account.pk).update(
        balance_fen=100
    )  # repaired: the suite-wide check stays clean


@pytest.mark.postgres
def test_ledger_check_finds_an_unbalanced_transaction(member):
    with connection.cursor() as cursor:  # transactional DDL: rolled back with the test
        cursor.execute("ALTER TABLE payments_entry DISABLE TRIGGER ledger_entries_balanced")
    earn(member, 100)
    txn = Transaction.objects.get(kind="accrue")
    Entry.objects.create(
        transaction=txn, account=Account.objects.get(user=member, kind="receivable"), amount_fen=-7
    )
    result = ledger_check.ledger_check()
    assert not result.ok
    assert (
        result.first_problem.startswith(f"transaction #{txn.pk} (accrue")
        and "sums to -7 fen" in result.first_problem
    )
    # repaired with a compensating entry (entries are never deleted), so the suite-wide check stays clean
    Entry.objects.create(
        transaction=txn, account=Account.objects.get(user=member, kind="receivable"), amount_fen=7
    )
    assert ledger_check.ledger_check().ok


def test_the_daily_task_alerts_with_an_error_log_and_an_audit_row(member, caplog):
    earn(member, 100, settle=False)
    Account.objects.filter(user=member, kind="earnings_pending").update(balance_fen=0)
    with caplog.at_level(logging.ERROR, logger="payments.wallet.ledger_check"):
        result = wallet_tasks.ledger_check.delay().get()
    assert result["ok"] is False and result["problems"] >= 1
    assert "ALERT ledger check failed" in caplog.text
    run = LedgerCheckRun.objects.get()
    assert not run.ok and run.trigger == "task" and run.first_problem
    audit = AuditLog.objects.get(action="ledger_check_failed")
    assert audit.target_id == str(run.pk) and audit.summary == run.first_problem[:255]
    Account.objects.filter(user=member, kind="earnings_pending").update(balance_fen=100)  # repaired
