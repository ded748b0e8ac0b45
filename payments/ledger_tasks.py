"""Ledger tasks: settlement, ledger check, withdrawals sweep and transfer submission (names: payments.tasks.*).

Thin: each calls one service and is safe to run twice (settlement and the sweep claim rows with
SKIP LOCKED / state checks; a cache lock only avoids pointless overlap of the same sweep)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

__all__ = ["ledger_check", "settle_earnings", "withdrawal_submit", "withdrawals_sweep"]

WITHDRAWALS_SWEEP_LOCK = "payments:withdrawals-sweep-lock"


@shared_task(name="payments.tasks.settle_earnings", acks_late=True)
def settle_earnings() -> dict:
    """Settle matured held earnings (set-based, batched; two runs at once settle each earning once)."""
    from payments import ledger

    run = ledger.settle_due()
    return {
        "run": run.pk,
        "earnings": run.earnings_count,
        "amount_fen": run.amount_fen,
        "batches": run.batches,
        "max_batch_ms": round(run.max_batch_ms, 1),
    }


@shared_task(name="payments.tasks.ledger_check", acks_late=True)
def ledger_check() -> dict:
    """Daily proof that the ledger balances; a failure logs an ALERT error and writes an audit row."""
    from payments import ledger
    from payments.models import LedgerCheckRun

    run = ledger.ledger_check_record(trigger=LedgerCheckRun.Trigger.TASK)
    return {"ok": run.ok, "problems": run.problem_count, "first_problem": run.first_problem}


@shared_task(name="payments.tasks.withdrawals_sweep", acks_late=True)
def withdrawals_sweep() -> dict:
    from payments import withdrawals

    if not cache.add(WITHDRAWALS_SWEEP_LOCK, 1, timeout=600):
        return {"skipped": 1}
    try:
        return withdrawals.withdrawals_sweep()
    finally:
        cache.delete(WITHDRAWALS_SWEEP_LOCK)


@shared_task(name="payments.tasks.withdrawal_submit", acks_late=True)
def withdrawal_submit(withdrawal_id: int) -> None:
    from payments import withdrawals

    withdrawals.withdrawal_submit(withdrawal_id=withdrawal_id)
