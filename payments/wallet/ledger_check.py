"""payments.wallet.ledger_check: the proof that the ledger balances (`manage.py ledger_check`, the
daily task, the admin button).

Every transaction sums to zero and has at least two entries; every cached balance equals the sum of
its entries; earnings_pending equals the member's held earnings and earnings_withdrawing their open
withdrawals. A failure is stored (LedgerCheckRun), logged as an ALERT and written to the audit log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from core.audit import audit_record
from payments.models import Account, AccountKind, Earning, Entry, LedgerCheckRun, Transaction, Withdrawal

logger = logging.getLogger(__name__)


@dataclass
class CheckResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    transactions: int = 0
    entries: int = 0
    accounts: int = 0
    duration_ms: float = 0.0

    @property
    def first_problem(self) -> str:
        return self.problems[0] if self.problems else ""


PROBLEM_LIMIT = 50  # problems listed per check, and in all
OPEN_WITHDRAWAL_STATUSES = (
    Withdrawal.Status.PENDING_REVIEW,
    Withdrawal.Status.APPROVED,
    Withdrawal.Status.TRANSFERRING,
    Withdrawal.Status.WAIT_USER_CONFIRM,
)


def _unbalanced() -> list[str]:
    rows = (
        Entry.objects.values("transaction_id", "transaction__kind", "transaction__idempotency_key")
        .annotate(total=Sum("amount_fen"))
        .exclude(total=0)
        .order_by("transaction_id")
        .values_list("transaction_id", "total", "transaction__kind", "transaction__idempotency_key")
    )
    return [
        f"transaction #{pk} ({kind} {key}) sums to {total} fen, not 0"
        for pk, total, kind, key in rows[:PROBLEM_LIMIT]
    ]


def _too_few_entries() -> list[str]:
    rows = (
        Transaction.objects.annotate(entry_count=Count("entries"))
        .filter(entry_count__lt=2)
        .order_by("pk")
        .values_list("pk", "entry_count", "kind", "idempotency_key")
    )
    return [
        f"transaction #{pk} ({kind} {key}) has {count} entries (a transaction needs ≥ 2)"
        for pk, count, kind, key in rows[:PROBLEM_LIMIT]
    ]


def _cached_balances() -> list[str]:
    rows = (
        Account.objects.filter(balance_fen__isnull=False)
        .annotate(entries_total=Coalesce(Sum("entries__amount_fen"), 0, output_field=BigIntegerField()))
        .exclude(balance_fen=F("entries_total"))
        .order_by("pk")
        .values_list("pk", "user_id", "kind", "balance_fen", "entries_total")
    )
    return [
        f"account #{pk} (member {user_id} {kind}) caches {balance} fen but its entries sum to {total} fen"
        for pk, user_id, kind, balance, total in rows[:PROBLEM_LIMIT]
    ]


def _per_member_total(rows: QuerySet[Any], amount: Combinable | str) -> Subquery:
    """The sum of `amount` over `rows` of the account's member (a subquery correlated on user_id)."""
    per_member = rows.filter(user_id=OuterRef("user_id")).order_by().values("user_id")
    return Subquery(per_member.annotate(total=Sum(amount, output_field=BigIntegerField())).values("total"))


def _pending_vs_held() -> list[str]:
    held = Earning.objects.filter(status=Earning.Status.HELD)
    remaining = F("amount_fen") - F("reversed_fen")
    differing = (
        Account.objects.filter(kind=AccountKind.EARNINGS_PENDING)
        .annotate(held_total=Coalesce(_per_member_total(held, remaining), 0, output_field=BigIntegerField()))
        .exclude(balance_fen=F("held_total"))
        .order_by("user_id")
        .values_list("user_id", "balance_fen", "held_total")
    )
    pending_account = Account.objects.filter(user_id=OuterRef("user_id"), kind=AccountKind.EARNINGS_PENDING)
    without_account = (
        held.exclude(Exists(pending_account))
        .values("user_id")
        .annotate(total=Sum(remaining, output_field=BigIntegerField()))
        .order_by("user_id")
        .values_list("user_id", "total")
    )
    rows = sorted(
        [
            *differing[:PROBLEM_LIMIT],
            *((user_id, 0, total) for user_id, total in without_account[:PROBLEM_LIMIT]),
        ],
        key=lambda row: row[0],
    )
    return [
        f"member {user_id}: earnings_pending is {balance} fen but held earnings add up to {total} fen"
        for user_id, balance, total in rows[:PROBLEM_LIMIT]
    ]


def _withdrawing_vs_requests() -> list[str]:
    open_requests = Withdrawal.objects.filter(status__in=OPEN_WITHDRAWAL_STATUSES)
    rows = (
        Account.objects.filter(kind=AccountKind.EARNINGS_WITHDRAWING)
        .annotate(
            open_total=Coalesce(
                _per_member_total(open_requests, "amount_fen"), 0, output_field=BigIntegerField()
            )
        )
        .exclude(balance_fen=F("open_total"))
        .order_by("user_id")
        .values_list("user_id", "balance_fen", "open_total")
    )
    return [
        f"member {user_id}: earnings_withdrawing is {balance} fen but open withdrawals add up to {total} fen"
        for user_id, balance, total in rows[:PROBLEM_LIMIT]
    ]


_CHECKS: list[Callable[[], list[str]]] = [
    _unbalanced,
    _too_few_entries,
    _cached_balances,
    _pending_vs_held,
    _withdrawing_vs_requests,
]


def ledger_check() -> CheckResult:
    """Prove every transaction sums to zero and every cached balance equals the sum of its entries
    (plus: pending = held earnings, withdrawing = open withdrawals). One consistent snapshot."""
    started = time.perf_counter()

    def run_checks() -> tuple[list[str], int, int, int]:
        problems = [problem for check in _CHECKS for problem in check()][:PROBLEM_LIMIT]
        return problems, Transaction.objects.count(), Entry.objects.count(), Account.objects.count()

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Every check and count reads the same snapshot, so a posting committed meanwhile cannot look
        # like a discrepancy. (The one statement the ORM has no call for.)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            problems, txns, entries, accounts = run_checks()
    else:
        problems, txns, entries, accounts = run_checks()
    return CheckResult(
        ok=not problems,
        problems=problems,
        transactions=txns,
        entries=entries,
        accounts=accounts,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def ledger_check_record(*, trigger: str) -> LedgerCheckRun:
    """Run the check, store the result operators see in admin, and alert (log error + audit row) on failure."""
    result = ledger_check()
    run = LedgerCheckRun.objects.create(
        trigger=trigger,
        ok=result.ok,
        transactions_checked=result.transactions,
        entries_checked=result.entries,
        accounts_checked=result.accounts,
        problem_count=len(result.problems),
        first_problem=result.first_problem,
        problems=result.problems,
        duration_ms=result.duration_ms,
    )
    if not result.ok:
        logger.error(
            "ALERT ledger check failed (%s problems): %s", len(result.problems), result.first_problem
        )
        audit_record(
            actor=None,
            action="ledger_check_failed",
            target=run,
            summary=result.first_problem,
            problem_count=len(result.problems),
        )
    return run
