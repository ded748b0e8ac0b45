"""payments.ledger: what the platform owes its members, in a double-entry ledger (docs/architecture.md §4).

The contract other apps call (BRIEF "Cross-app contracts"):

- `earning_accrue(...)` — a held earning (earnings_pending); idempotent on its key.
- `earning_reverse(...)` — a refund: voids while held (`earning_void`), claws back after settlement
  (`earning_clawback`: available first, the rest from receivable, which may go negative).
- `earning_deduct(...)` — a debit not tied to one earning (available first, then receivable).
- `balances(user)` — pending / available / withdrawing / withdrawn / receivable.
- `settle_due(...)` — matured held earnings → available (receivable repaid first), set-based SQL in
  short batches with `FOR UPDATE SKIP LOCKED`; several runs at once settle each earning once.

Withdrawals (payments.withdrawals) post through `post_withdraw`, `post_payout`, `post_payout_return`.

Every posting goes through `_post`: the entries of one transaction sum to zero (checked here on every
backend, and by a trigger on PostgreSQL), are inserted in one statement, and the member accounts'
cached balances are updated in the same database transaction. Lock order, everywhere: the business
row (earning, withdrawal) first, then the member's accounts in primary-key order. Each transaction's
idempotency key is a unique column (`accrue:…`, `reverse:…`, `deduct:…`, `withdraw:<id>`, …).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.models import (
    MEMBER_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Earning,
    Entry,
    LedgerCheckRun,
    SettlementRun,
    Transaction,
    Withdrawal,
)

logger = logging.getLogger(__name__)

K = AccountKind
# Settlement batches: as many earnings as fit in about TARGET_BATCH_MS of held locks (the size adapts
# to the database's speed, between MIN and the caller's maximum), so members and refunds never wait long.
DEFAULT_SETTLE_BATCH = 5_000
MIN_SETTLE_BATCH = 50
FIRST_SETTLE_BATCH = 500
# 60 ms, not closer to the 200 ms promise: a batch that meets a checkpoint or autovacuum's I/O takes
# two to three times its usual time (one of 370 batches at an 80 ms target held 207 ms).
TARGET_BATCH_MS = 60.0

# Which system account carries the other side of an earning, by source. Unknown sources (apps may
# add new ones) land on `earnings_expense`.
SOURCE_ACCOUNTS: dict[str, str] = {
    "commission": K.COMMISSION_EXPENSE,
    "commission_l2": K.COMMISSION_EXPENSE,
    "staff_share": K.STAFF_SHARE_EXPENSE,
    "tip": K.TIPS_CLEARING,
    "qa_fee": K.QA_CLEARING,
    "adjustment": K.ADJUSTMENTS,
}


def source_account_kind(source: str) -> str:
    return SOURCE_ACCOUNTS.get(source, K.EARNINGS_EXPENSE)


class LedgerImbalance(RuntimeError):
    """A posting whose entries do not sum to zero: a programming error, never a user error."""


# ---- validation -------------------------------------------------------------------------------------


def _amount(value, *, field_name: str = "amount_fen") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(
            "invalid_amount", _("金额必须是整数（分）"), fields={field_name: [_("金额必须是整数（分）")]}
        )
    if value <= 0:
        raise ApplicationError(
            "invalid_amount", _("金额必须大于 0"), fields={field_name: [_("金额必须大于 0")]}
        )
    return value


def _key(value: str, *, max_length: int = 150) -> str:
    key = (value or "").strip() if isinstance(value, str) else ""
    if not key or len(key) > max_length:
        raise ApplicationError(
            "invalid_idempotency_key",
            _("幂等键不能为空且不超过 %(n)s 个字符") % {"n": max_length},
        )
    return key


# ---- accounts and postings ----------------------------------------------------------------------------


def _system_account(kind: str) -> Account:
    account = Account.objects.filter(user__isnull=True, kind=kind).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(user=None, kind=kind, balance_fen=None)
        except IntegrityError:  # created concurrently
            account = Account.objects.get(user__isnull=True, kind=kind)
    return account


def _lock_member_accounts(user_ids: list[int]) -> dict[int, dict[str, Account]]:
    """Create missing member accounts, then lock all of them in primary-key order."""

    def locked() -> list[Account]:
        qs = Account.objects.filter(user_id__in=user_ids, kind__in=MEMBER_ACCOUNT_KINDS).order_by("pk")
        return list(qs.select_for_update())

    rows = locked()
    if len(rows) < len(user_ids) * len(MEMBER_ACCOUNT_KINDS):
        have = {(a.user_id, a.kind) for a in rows}
        Account.objects.bulk_create(
            [
                Account(user_id=uid, kind=kind, balance_fen=0)
                for uid in user_ids
                for kind in MEMBER_ACCOUNT_KINDS
                if (uid, kind) not in have
            ],
            ignore_conflicts=True,
        )
        rows = locked()
    by_user: dict[int, dict[str, Account]] = defaultdict(dict)
    for account in rows:
        by_user[account.user_id][account.kind] = account
    return by_user


def _member_accounts(user_id: int) -> dict[str, Account]:
    return _lock_member_accounts([user_id])[user_id]


def _post(
    *,
    kind: str,
    key: str,
    user_id: int | None,
    reference: str,
    description: str,
    lines: list[tuple[Account, int]],
) -> Transaction:
    """Write one balanced transaction and update the cached balances (caller holds the account locks)."""
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for account, amount in lines:
        merged[account.pk] += int(amount)
        accounts[account.pk] = account
    nonzero = {pk: amount for pk, amount in merged.items() if amount}
    if sum(nonzero.values()) != 0 or len(nonzero) < 2:
        raise LedgerImbalance(f"{kind} {key}: entries {nonzero} do not balance")
    txn = Transaction.objects.create(
        kind=kind,
        idempotency_key=key,
        user_id=user_id,
        reference=reference[:64],
        description=(description or "")[:200],
    )
    # One INSERT statement: the PostgreSQL trigger checks the whole transaction at once.
    Entry.objects.bulk_create(
        [Entry(transaction=txn, account_id=pk, amount_fen=amount) for pk, amount in nonzero.items()]
    )
    now = timezone.now()
    for pk, amount in nonzero.items():
        account = accounts[pk]
        if account.is_system:
            continue  # system balances are summed from entries, not cached (no hot row)
        Account.objects.filter(pk=pk).update(balance_fen=F("balance_fen") + amount, updated_at=now)
        account.balance_fen += amount
    return txn


def _applied(key: str) -> Transaction | None:
    return Transaction.objects.filter(idempotency_key=key).first()


# ---- balances -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balances:
    pending_fen: int = 0
    available_fen: int = 0
    withdrawing_fen: int = 0
    withdrawn_fen: int = 0
    receivable_fen: int = 0  # ≤ 0; negative means the member owes the platform

    @property
    def owed_fen(self) -> int:
        return max(0, -self.receivable_fen)

    @property
    def total_earned_fen(self) -> int:
        return self.pending_fen + self.available_fen + self.withdrawing_fen + self.withdrawn_fen


_BALANCES_SQL = """
SELECT kind, balance_fen FROM payments_account
WHERE user_id = %s AND kind IN ('earnings_pending', 'earnings_available', 'earnings_withdrawing', 'receivable')
UNION ALL
SELECT 'withdrawn', COALESCE(SUM(amount_fen), 0) FROM payments_withdrawal WHERE user_id = %s AND status = 'paid'
"""


def balances(user) -> Balances:
    """A member's balances, in one query (no account rows are created by reading)."""
    if not getattr(user, "pk", None):
        return Balances()
    with connection.cursor() as cursor:
        cursor.execute(_BALANCES_SQL, [user.pk, user.pk])
        values = {kind: int(amount or 0) for kind, amount in cursor.fetchall()}
    return Balances(
        pending_fen=values.get(K.EARNINGS_PENDING, 0),
        available_fen=values.get(K.EARNINGS_AVAILABLE, 0),
        withdrawing_fen=values.get(K.EARNINGS_WITHDRAWING, 0),
        withdrawn_fen=values.get("withdrawn", 0),
        receivable_fen=values.get(K.RECEIVABLE, 0),
    )


# ---- earnings -----------------------------------------------------------------------------------------


def earning_accrue(
    *,
    user,
    amount_fen: int,
    source: str,
    idempotency_key: str,
    hold_until: datetime,
    order=None,
    description: str = "",
) -> Earning:
    """Record a held earning (earnings_pending ← the source's system account). Idempotent on the key:
    a second call with the same key returns the first row and posts nothing. Safe inside a transaction."""
    amount = _amount(amount_fen)
    key = _key(idempotency_key)
    source = (source or "").strip() if isinstance(source, str) else ""
    if not source or len(source) > 32:
        raise ApplicationError("invalid_source", _("收益来源不能为空且不超过 32 个字符"))
    if not isinstance(hold_until, datetime) or timezone.is_naive(hold_until):
        raise ApplicationError("invalid_hold_until", _("冻结截止时间必须是带时区的时间"))
    if not getattr(user, "pk", None):
        raise ApplicationError("invalid_user", _("收益必须属于一位会员"))
    existing = Earning.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            accounts = _member_accounts(user.pk)
            earning = Earning.objects.create(
                user_id=user.pk,
                amount_fen=amount,
                source=source,
                order=order,
                hold_until=hold_until,
                idempotency_key=key,
                description=(description or "")[:200],
            )
            _post(
                kind=Transaction.Kind.ACCRUE,
                key=f"accrue:{key}",
                user_id=user.pk,
                reference=f"earning:{earning.pk}",
                description=earning.description or earning.source_label,
                lines=[
                    (accounts[K.EARNINGS_PENDING], amount),
                    (_system_account(source_account_kind(source)), -amount),
                ],
            )
    except IntegrityError:
        existing = Earning.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing  # the same key accrued concurrently: that row is the answer
    return earning


def _check_reversible(earning: Earning, amount: int) -> None:
    if amount > earning.remaining_fen:
        raise ApplicationError(
            "reverse_exceeds_earning",
            _("冲回金额超过该笔收益的剩余金额"),
            status_code=409,
            extra={"remaining_fen": earning.remaining_fen},
        )


def _void(earning: Earning, amount: int, key: str, reason: str) -> Transaction:
    _check_reversible(earning, amount)
    accounts = _member_accounts(earning.user_id)
    txn = _post(
        kind=Transaction.Kind.VOID,
        key=f"reverse:{key}",
        user_id=earning.user_id,
        reference=f"earning:{earning.pk}",
        description=reason or _("冻结期内退款，收益作废"),
        lines=[
            (accounts[K.EARNINGS_PENDING], -amount),
            (_system_account(source_account_kind(earning.source)), amount),
        ],
    )
    earning.reversed_fen += amount
    if earning.reversed_fen == earning.amount_fen:
        earning.status = Earning.Status.VOIDED
    earning.save(update_fields=["reversed_fen", "status"])
    return txn


def _clawback(earning: Earning, amount: int, key: str, reason: str) -> Transaction:
    _check_reversible(earning, amount)
    accounts = _member_accounts(earning.user_id)
    available = accounts[K.EARNINGS_AVAILABLE]
    taken = min(amount, available.balance_fen)
    txn = _post(
        kind=Transaction.Kind.CLAWBACK,
        key=f"reverse:{key}",
        user_id=earning.user_id,
        reference=f"earning:{earning.pk}",
        description=reason or _("结算后退款，收益追回"),
        lines=[
            (available, -taken),
            (accounts[K.RECEIVABLE], -(amount - taken)),
            (_system_account(source_account_kind(earning.source)), amount),
        ],
    )
    earning.reversed_fen += amount
    if earning.reversed_fen == earning.amount_fen:
        earning.status = Earning.Status.CLAWED_BACK
    earning.save(update_fields=["reversed_fen", "status"])
    return txn


def _reverse(
    *, earning: Earning, amount_fen: int, idempotency_key: str, reason: str, only: str | None
) -> Earning:
    amount = _amount(amount_fen)
    key = _key(idempotency_key)
    with transaction.atomic():
        locked = Earning.objects.select_for_update(of=("self",)).get(pk=earning.pk)
        if _applied(f"reverse:{key}") is None:
            if locked.status == Earning.Status.HELD and only in (None, "void"):
                _void(locked, amount, key, reason)
            elif locked.status == Earning.Status.SETTLED and only in (None, "clawback"):
                _clawback(locked, amount, key, reason)
            elif locked.status in (Earning.Status.VOIDED, Earning.Status.CLAWED_BACK):
                raise ApplicationError("earning_already_reversed", _("该笔收益已全部冲回"), status_code=409)
            else:
                raise ApplicationError(
                    "earning_wrong_state",
                    _("该笔收益当前状态不允许此操作"),
                    status_code=409,
                    extra={"status": locked.status},
                )
    earning.reversed_fen, earning.status = locked.reversed_fen, locked.status
    return locked


def earning_reverse(*, earning: Earning, amount_fen: int, idempotency_key: str, reason: str = "") -> Earning:
    """A refund of (part of) what an earning came from: void while held, claw back once settled.

    Idempotent on the key; a settlement running at the same moment is waited for (row lock), so the
    right half is chosen. Refuses more than the earning has left (`reverse_exceeds_earning`)."""
    return _reverse(
        earning=earning, amount_fen=amount_fen, idempotency_key=idempotency_key, reason=reason, only=None
    )


def earning_void(*, earning: Earning, amount_fen: int, idempotency_key: str, reason: str = "") -> Earning:
    """Reverse (part of) a held earning: earnings_pending → back to the source account."""
    return _reverse(
        earning=earning, amount_fen=amount_fen, idempotency_key=idempotency_key, reason=reason, only="void"
    )


def earning_clawback(*, earning: Earning, amount_fen: int, idempotency_key: str, reason: str = "") -> Earning:
    """Reverse (part of) a settled earning: from available first, the rest from receivable (may go < 0)."""
    return _reverse(
        earning=earning,
        amount_fen=amount_fen,
        idempotency_key=idempotency_key,
        reason=reason,
        only="clawback",
    )


def earning_deduct(*, user, amount_fen: int, idempotency_key: str, reason: str = "") -> Transaction:
    """A debit not tied to one earning (e.g. a staff-share correction): available first, then receivable."""
    amount = _amount(amount_fen)
    key = _key(idempotency_key)
    if not getattr(user, "pk", None):
        raise ApplicationError("invalid_user", _("扣减必须针对一位会员"))
    with transaction.atomic():
        accounts = _member_accounts(user.pk)
        existing = _applied(f"deduct:{key}")
        if existing is not None:
            return existing
        available = accounts[K.EARNINGS_AVAILABLE]
        taken = min(amount, available.balance_fen)
        return _post(
            kind=Transaction.Kind.DEDUCT,
            key=f"deduct:{key}",
            user_id=user.pk,
            reference=f"deduct:{key}"[:64],
            description=reason or _("扣减"),
            lines=[
                (available, -taken),
                (accounts[K.RECEIVABLE], -(amount - taken)),
                (_system_account(K.ADJUSTMENTS), amount),
            ],
        )


# ---- withdrawal postings (called by payments.withdrawals, inside its locked transaction) ---------------


def post_withdraw(*, withdrawal: Withdrawal, accounts: dict[str, Account]) -> Transaction:
    """available → withdrawing. The caller checked available and receivable under the same locks."""
    return _post(
        kind=Transaction.Kind.WITHDRAW,
        key=f"withdraw:{withdrawal.pk}",
        user_id=withdrawal.user_id,
        reference=f"withdrawal:{withdrawal.pk}",
        description=_("申请提现"),
        lines=[
            (accounts[K.EARNINGS_AVAILABLE], -withdrawal.amount_fen),
            (accounts[K.EARNINGS_WITHDRAWING], withdrawal.amount_fen),
        ],
    )


def post_payout(*, withdrawal: Withdrawal) -> Transaction:
    """withdrawing → payout_clearing: the money has left the platform. Once per withdrawal."""
    existing = _applied(f"payout:{withdrawal.pk}")
    if existing is not None:
        return existing
    accounts = _member_accounts(withdrawal.user_id)
    return _post(
        kind=Transaction.Kind.PAYOUT,
        key=f"payout:{withdrawal.pk}",
        user_id=withdrawal.user_id,
        reference=f"withdrawal:{withdrawal.pk}",
        description=_("提现到账"),
        lines=[
            (accounts[K.EARNINGS_WITHDRAWING], -withdrawal.amount_fen),
            (_system_account(K.PAYOUT_CLEARING), withdrawal.amount_fen),
        ],
    )


def post_payout_return(*, withdrawal: Withdrawal, reason: str) -> Transaction:
    """withdrawing → available (rejected, cancelled, failed, expired). Money owed meanwhile is repaid first."""
    existing = _applied(f"payout_return:{withdrawal.pk}")
    if existing is not None:
        return existing
    accounts = _member_accounts(withdrawal.user_id)
    receivable = accounts[K.RECEIVABLE]
    repay = min(withdrawal.amount_fen, -receivable.balance_fen)
    return _post(
        kind=Transaction.Kind.PAYOUT_RETURN,
        key=f"payout_return:{withdrawal.pk}",
        user_id=withdrawal.user_id,
        reference=f"withdrawal:{withdrawal.pk}",
        description=reason,
        lines=[
            (accounts[K.EARNINGS_WITHDRAWING], -withdrawal.amount_fen),
            (accounts[K.EARNINGS_AVAILABLE], withdrawal.amount_fen - repay),
            (receivable, repay),
        ],
    )


# ---- settlement ------------------------------------------------------------------------------------


@dataclass
class _BatchResult:
    earnings: int = 0
    members: int = 0
    amount_fen: int = 0
    repaid_fen: int = 0
    last: tuple[int, int] = (0, 0)


def settle_due(
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_SETTLE_BATCH,
    method: str = "auto",
    target_batch_ms: float = TARGET_BATCH_MS,
) -> SettlementRun:
    """Settle every held earning whose hold has ended (hold_until ≤ now): pending → available, and a
    negative receivable is repaid first. Returns the SettlementRun (each settled earning points to it).

    Walks held earnings in (user, id) order; each batch is its own short transaction that claims its
    earnings with `FOR UPDATE SKIP LOCKED`, so two runs at once split the work and an earning being
    reversed right now is left for the next run. Re-running settles nothing twice. Batches hold their
    locks for about `target_batch_ms` (at most `batch_size` earnings each). `method` chooses the
    set-based SQL (PostgreSQL, default there) or the ORM path (other databases, and tests).
    """
    cutoff = now or timezone.now()
    if batch_size <= 0:
        raise ApplicationError("invalid_batch_size", _("批次大小必须大于 0"))
    use_sql = method == "sql" or (method == "auto" and connection.vendor == "postgresql")
    run = SettlementRun.objects.create(cutoff=cutoff)
    after = (0, 0)
    size = min(batch_size, FIRST_SETTLE_BATCH)
    run.batch_times_ms = []  # per batch, for callers that report the distribution (not stored)
    try:
        while True:
            started = time.perf_counter()
            with transaction.atomic():
                batch = (_settle_batch_sql if use_sql else _settle_batch_orm)(
                    run=run, cutoff=cutoff, after=after, limit=size, batch_no=run.batches
                )
            elapsed_ms = (time.perf_counter() - started) * 1000
            if batch.earnings >= size and elapsed_ms > 0:
                # Aim the next batch at the target lock time: shrink fast (÷2), grow slowly (×1.25),
                # so one quick batch on a busy server does not double the next one's lock time.
                proposal = size * max(0.5, min(1.25, target_batch_ms / elapsed_ms))
                size = min(batch_size, max(MIN_SETTLE_BATCH, int(proposal)))
            if not batch.earnings:
                break
            run.batches += 1
            run.earnings_count += batch.earnings
            run.members_count += batch.members
            run.amount_fen += batch.amount_fen
            run.repaid_fen += batch.repaid_fen
            run.max_batch_ms = max(run.max_batch_ms, elapsed_ms)
            run.batch_times_ms.append(elapsed_ms)
            after = batch.last
    except Exception as exc:
        run.status, run.error, run.finished_at = SettlementRun.Status.FAILED, repr(exc)[:2000], timezone.now()
        run.save()
        logger.exception("settlement run %s failed after %s batches", run.pk, run.batches)
        raise
    run.status, run.finished_at = SettlementRun.Status.FINISHED, timezone.now()
    run.save()
    logger.info(
        "settlement run %s: %s earnings, %s fen, %s batches, longest %.1f ms",
        run.pk,
        run.earnings_count,
        run.amount_fen,
        run.batches,
        run.max_batch_ms,
    )
    return run


_CLAIM_SQL = """
WITH claimed AS (
    SELECT id, user_id, amount_fen - reversed_fen AS amount
    FROM payments_earning
    WHERE status = 'held' AND hold_until <= %(cutoff)s AND (user_id, id) > (%(after_user)s, %(after_id)s)
    ORDER BY user_id, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE payments_earning e
    SET status = 'settled', settled_run_id = %(run)s, settled_at = %(ts)s
    FROM claimed c
    WHERE e.id = c.id
    RETURNING e.id, e.user_id, c.amount
)
SELECT user_id, SUM(amount)::bigint, COUNT(*), MAX(id) FROM marked GROUP BY user_id ORDER BY user_id
"""

_LOCK_SQL = """
SELECT COUNT(*) FROM (
    SELECT id FROM payments_account
    WHERE user_id = ANY(%(users)s) AND kind IN ('earnings_pending', 'earnings_available', 'receivable')
    ORDER BY id
    FOR UPDATE
) locked
"""

# One statement: per member, a 'settle' transaction whose entries move the batch total out of
# pending, repay receivable first, credit the rest to available; then the cached balances.
_POST_SQL = """
WITH per_user AS (
    SELECT * FROM unnest(%(users)s::bigint[], %(amounts)s::bigint[]) AS t(user_id, amount)
), acct AS (
    SELECT p.user_id, p.amount, pend.id AS pending_id, avail.id AS available_id, recv.id AS receivable_id,
           LEAST(p.amount, -recv.balance_fen) AS repay
    FROM per_user p
    JOIN payments_account pend ON pend.user_id = p.user_id AND pend.kind = 'earnings_pending'
    JOIN payments_account avail ON avail.user_id = p.user_id AND avail.kind = 'earnings_available'
    JOIN payments_account recv ON recv.user_id = p.user_id AND recv.kind = 'receivable'
), txn AS (
    INSERT INTO payments_transaction (kind, idempotency_key, user_id, reference, description, created_at)
    SELECT 'settle', %(key_prefix)s || a.user_id, a.user_id, %(reference)s, %(description)s, %(ts)s
    FROM acct a
    RETURNING id, user_id
), lines AS (
    SELECT t.id AS transaction_id, a.pending_id AS account_id, -a.amount AS amount_fen
    FROM txn t JOIN acct a USING (user_id)
    UNION ALL
    SELECT t.id, a.available_id, a.amount - a.repay FROM txn t JOIN acct a USING (user_id) WHERE a.amount > a.repay
    UNION ALL
    SELECT t.id, a.receivable_id, a.repay FROM txn t JOIN acct a USING (user_id) WHERE a.repay > 0
), ent AS (
    INSERT INTO payments_entry (transaction_id, account_id, amount_fen)
    SELECT transaction_id, account_id, amount_fen FROM lines
    RETURNING account_id, amount_fen
), upd AS (
    UPDATE payments_account acc
    SET balance_fen = acc.balance_fen + d.delta, updated_at = %(ts)s
    FROM (SELECT account_id, SUM(amount_fen) AS delta FROM ent GROUP BY account_id) d
    WHERE acc.id = d.account_id
    RETURNING acc.id
)
SELECT (SELECT COUNT(*) FROM acct), (SELECT COALESCE(SUM(repay), 0) FROM acct), (SELECT COUNT(*) FROM upd)
"""


def _settle_batch_sql(
    *, run: SettlementRun, cutoff: datetime, after: tuple[int, int], limit: int, batch_no: int
):
    ts = timezone.now()
    with connection.cursor() as cursor:
        # A batch's commit need not wait for its WAL flush: after a crash a lost batch is lost whole
        # (earnings still held, balances untouched) and the next run settles it again; any later
        # synchronous commit — a withdrawal spending this money — flushes the WAL up to and past it.
        cursor.execute(
            "SET LOCAL synchronous_commit = off;" + _CLAIM_SQL,  # one round trip
            {
                "cutoff": cutoff,
                "after_user": after[0],
                "after_id": after[1],
                "limit": limit,
                "run": run.pk,
                "ts": ts,
            },
        )
        cursor.nextset()  # psycopg 3 presents the SET's (empty) result first; the claim's comes next
        groups = cursor.fetchall()
        if not groups:
            return _BatchResult(last=after)
        users = [row[0] for row in groups]
        amounts = [int(row[1]) for row in groups]
        cursor.execute(_LOCK_SQL, {"users": users})
        cursor.execute(
            _POST_SQL,
            {
                "users": users,
                "amounts": amounts,
                "key_prefix": f"settle:{run.pk}:{batch_no}:",
                "reference": f"settlement_run:{run.pk}",
                "description": _("结算批次 #%(run)s") % {"run": run.pk},
                "ts": ts,
            },
        )
        members, repaid, _updated = cursor.fetchone()
    if members != len(users):
        # An earning without its member's accounts: refuse the whole batch rather than settle it half.
        raise LedgerImbalance(
            f"settlement batch {batch_no}: {len(users)} members but {members} with accounts"
        )
    return _BatchResult(
        earnings=sum(int(row[2]) for row in groups),
        members=len(users),
        amount_fen=sum(amounts),
        repaid_fen=int(repaid),
        last=(groups[-1][0], int(groups[-1][3])),
    )


def _settle_batch_orm(
    *, run: SettlementRun, cutoff: datetime, after: tuple[int, int], limit: int, batch_no: int
):
    """The same batch through the ORM (SQLite in the demo; also exercised on PostgreSQL by the tests)."""
    qs = (
        Earning.objects.filter(status=Earning.Status.HELD, hold_until__lte=cutoff)
        .filter(Q(user_id__gt=after[0]) | Q(user_id=after[0], pk__gt=after[1]))
        .order_by("user_id", "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = list(qs.values_list("pk", "user_id", "amount_fen", "reversed_fen")[:limit])
    if not rows:
        return _BatchResult(last=after)
    totals: dict[int, int] = defaultdict(int)
    for _pk, user_id, amount, reversed_ in rows:
        totals[user_id] += amount - reversed_
    ts = timezone.now()
    Earning.objects.filter(pk__in=[row[0] for row in rows]).update(
        status=Earning.Status.SETTLED, settled_run=run, settled_at=ts
    )
    locked = _lock_member_accounts(sorted(totals))
    repaid_total = 0
    for user_id in sorted(totals):
        accounts, amount = locked[user_id], totals[user_id]
        receivable = accounts[K.RECEIVABLE]
        repay = min(amount, -receivable.balance_fen)
        repaid_total += repay
        _post(
            kind=Transaction.Kind.SETTLE,
            key=f"settle:{run.pk}:{batch_no}:{user_id}",
            user_id=user_id,
            reference=f"settlement_run:{run.pk}",
            description=_("结算批次 #%(run)s") % {"run": run.pk},
            lines=[
                (accounts[K.EARNINGS_PENDING], -amount),
                (accounts[K.EARNINGS_AVAILABLE], amount - repay),
                (receivable, repay),
            ],
        )
    last = rows[-1]
    return _BatchResult(
        earnings=len(rows),
        members=len(totals),
        amount_fen=sum(totals.values()),
        repaid_fen=repaid_total,
        last=(last[1], last[0]),
    )


# ---- ledger check -----------------------------------------------------------------------------------


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


_CHECKS: list[tuple[str, str]] = [
    (
        "unbalanced",
        """SELECT e.transaction_id, SUM(e.amount_fen), t.kind, t.idempotency_key
           FROM payments_entry e JOIN payments_transaction t ON t.id = e.transaction_id
           GROUP BY e.transaction_id, t.kind, t.idempotency_key
           HAVING SUM(e.amount_fen) <> 0 ORDER BY e.transaction_id LIMIT 50""",
    ),
    (
        "too_few_entries",
        """SELECT t.id, COUNT(e.id), t.kind, t.idempotency_key
           FROM payments_transaction t LEFT JOIN payments_entry e ON e.transaction_id = t.id
           GROUP BY t.id, t.kind, t.idempotency_key HAVING COUNT(e.id) < 2 ORDER BY t.id LIMIT 50""",
    ),
    (
        "cached_balance",
        """SELECT a.id, a.user_id, a.kind, a.balance_fen, COALESCE(s.total, 0)
           FROM payments_account a
           LEFT JOIN (SELECT account_id, SUM(amount_fen) AS total FROM payments_entry GROUP BY account_id) s
             ON s.account_id = a.id
           WHERE a.balance_fen IS NOT NULL AND a.balance_fen <> COALESCE(s.total, 0)
           ORDER BY a.id LIMIT 50""",
    ),
    (
        "pending_vs_held",
        """SELECT a.user_id, a.balance_fen, COALESCE(h.total, 0)
           FROM payments_account a
           LEFT JOIN (SELECT user_id, SUM(amount_fen - reversed_fen) AS total FROM payments_earning
                      WHERE status = 'held' GROUP BY user_id) h ON h.user_id = a.user_id
           WHERE a.kind = 'earnings_pending' AND a.balance_fen <> COALESCE(h.total, 0)
           UNION ALL
           SELECT e.user_id, 0, SUM(e.amount_fen - e.reversed_fen) FROM payments_earning e
           WHERE e.status = 'held' AND NOT EXISTS (
               SELECT 1 FROM payments_account a WHERE a.user_id = e.user_id AND a.kind = 'earnings_pending')
           GROUP BY e.user_id
           ORDER BY 1 LIMIT 50""",
    ),
    (
        "withdrawing_vs_requests",
        """SELECT a.user_id, a.balance_fen, COALESCE(w.total, 0)
           FROM payments_account a
           LEFT JOIN (SELECT user_id, SUM(amount_fen) AS total FROM payments_withdrawal
                      WHERE status IN ('pending_review', 'approved', 'transferring', 'wait_user_confirm')
                      GROUP BY user_id) w ON w.user_id = a.user_id
           WHERE a.kind = 'earnings_withdrawing' AND a.balance_fen <> COALESCE(w.total, 0)
           ORDER BY 1 LIMIT 50""",
    ),
]


def _describe(check: str, row: tuple) -> str:
    if check == "unbalanced":
        return f"transaction #{row[0]} ({row[2]} {row[3]}) sums to {row[1]} fen, not 0"
    if check == "too_few_entries":
        return f"transaction #{row[0]} ({row[2]} {row[3]}) has {row[1]} entries (a transaction needs ≥ 2)"
    if check == "cached_balance":
        return (
            f"account #{row[0]} (member {row[1]} {row[2]}) caches {row[3]} fen "
            f"but its entries sum to {row[4]} fen"
        )
    if check == "pending_vs_held":
        return f"member {row[0]}: earnings_pending is {row[1]} fen but held earnings add up to {row[2]} fen"
    return (
        f"member {row[0]}: earnings_withdrawing is {row[1]} fen but open withdrawals add up to {row[2]} fen"
    )


def ledger_check() -> CheckResult:
    """Prove every transaction sums to zero and every cached balance equals the sum of its entries
    (plus: pending = held earnings, withdrawing = open withdrawals). One consistent snapshot."""
    started = time.perf_counter()
    problems: list[str] = []

    def run_checks(cursor) -> tuple[int, int, int]:
        for name, sql in _CHECKS:
            cursor.execute(sql)
            for row in cursor.fetchall():
                if len(problems) < 50:
                    problems.append(_describe(name, row))
        counts = []
        for table in ("payments_transaction", "payments_entry", "payments_account"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed table names
            counts.append(cursor.fetchone()[0])
        return counts[0], counts[1], counts[2]

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            txns, entries, accounts = run_checks(cursor)
    else:
        with connection.cursor() as cursor:
            txns, entries, accounts = run_checks(cursor)
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
        from core.audit import audit_record

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
