"""Celery tasks of the wallet: settlement, the ledger check, the withdrawals sweep and transfer submission.

Thin: each calls one service and is safe to run twice (settlement and the sweep claim rows with
SKIP LOCKED / state checks; a cache lock only avoids pointless overlap of the same sweep). Celery
discovers them through `payments.tasks`; each keeps the registered name it had when it lived in
`payments.ledger_tasks` (`payments.tasks.*`), because beat schedules and stored PeriodicTask rows
refer to tasks by name.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.cache import cache

from payments.models import LedgerCheckRun
from payments.wallet import ledger_check as ledger_checks
from payments.wallet import settlement, withdrawal_payouts

__all__ = ["ledger_check", "settle_earnings", "withdrawal_submit", "withdrawals_sweep"]

WITHDRAWALS_SWEEP_LOCK = "payments:withdrawals-sweep-lock"

# Celery ships no type stubs, so `shared_task` is untyped: each decorator below says so (untyped-decorator).


@shared_task(name="payments.tasks.settle_earnings", acks_late=True)  # type: ignore[untyped-decorator]  # name pinned: beat rows use it
def settle_earnings() -> dict[str, Any]:
    """Settle matured held earnings (set-based, batched; two runs at once settle each earning once)."""
    run = settlement.settle_due()
    return {
        "run": run.pk,
        "earnings": run.earnings_count,
        "amount_fen": run.amount_fen,
        "batches": run.batches,
        "max_batch_ms": round(run.max_batch_ms, 1),
    }


@shared_task(name="payments.tasks.ledger_check", acks_late=True)  # type: ignore[untyped-decorator]  # name pinned: beat rows use it
def ledger_check() -> dict[str, Any]:
    """Daily proof that the ledger balances; a failure logs an ALERT error and writes an audit row."""
    run = ledger_checks.ledger_check_record(trigger=LedgerCheckRun.Trigger.TASK)
    return {"ok": run.ok, "problems": run.problem_count, "first_problem": run.first_problem}


@shared_task(name="payments.tasks.withdrawals_sweep", acks_late=True)  # type: ignore[untyped-decorator]  # name pinned: beat rows use it
def withdrawals_sweep() -> dict[str, int]:
    if not cache.add(WITHDRAWALS_SWEEP_LOCK, 1, timeout=600):
        return {"skipped": 1}
    try:
        return withdrawal_payouts.withdrawals_sweep()
    finally:
        cache.delete(WITHDRAWALS_SWEEP_LOCK)


@shared_task(name="payments.tasks.withdrawal_submit", acks_late=True)  # type: ignore[untyped-decorator]  # name pinned: queued by approval
def withdrawal_submit(withdrawal_id: int) -> None:
    withdrawal_payouts.withdrawal_submit(withdrawal_id=withdrawal_id)
