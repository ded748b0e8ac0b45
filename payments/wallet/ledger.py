"""payments.wallet.ledger: what the platform owes its members, in a double-entry ledger (docs/architecture.md §4).

This module holds the accounts and the postings; the rest of the wallet builds on it:

- `balances(user)` — pending / available / withdrawing / withdrawn / receivable.
- `post_transaction(...)` — every posting goes through it: the entries of one transaction sum to
  zero (checked here on every backend, and by a trigger on PostgreSQL), are inserted in one
  statement, and the member accounts' cached balances are updated in the same database transaction.
- `post_withdraw`, `post_payout`, `post_payout_return` — the postings of a withdrawal
  (payments.wallet.withdrawals and payments.wallet.withdrawal_payouts call them).

Held earnings and their reversal live in payments.wallet.earnings, the nightly batch that releases
them in payments.wallet.settlement, the proof that the books balance in payments.wallet.ledger_check.

Lock order, everywhere: the business row (earning, withdrawal) first, then the member's accounts in
primary-key order. Each transaction's idempotency key is a unique column (`accrue:…`, `reverse:…`,
`deduct:…`, `withdraw:<id>`, …).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.models import (
    MEMBER_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Entry,
    Transaction,
    Withdrawal,
)

K = AccountKind
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


def valid_amount_fen(value: object, *, field_name: str = "amount_fen") -> int:
    """An amount in fen: a positive int (not a bool, not a float); `invalid_amount` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(
            "invalid_amount", _("金额必须是整数（分）"), fields={field_name: [_("金额必须是整数（分）")]}
        )
    if value <= 0:
        raise ApplicationError(
            "invalid_amount", _("金额必须大于 0"), fields={field_name: [_("金额必须大于 0")]}
        )
    return value


def valid_idempotency_key(value: str, *, max_length: int = 150) -> str:
    """An idempotency key, stripped; empty or too long is `invalid_idempotency_key`."""
    key = (value or "").strip() if isinstance(value, str) else ""
    if not key or len(key) > max_length:
        raise ApplicationError(
            "invalid_idempotency_key",
            _("幂等键不能为空且不超过 %(n)s 个字符") % {"n": max_length},
        )
    return key


# ---- accounts and postings ----------------------------------------------------------------------------


def system_account(kind: str) -> Account:
    """The platform's account of `kind` (created on first use)."""
    account = Account.objects.filter(user__isnull=True, kind=kind).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(user=None, kind=kind, balance_fen=None)
        except IntegrityError:  # created concurrently
            account = Account.objects.get(user__isnull=True, kind=kind)
    return account


def lock_member_accounts(user_ids: list[int]) -> dict[int, dict[str, Account]]:
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
        if account.user_id is not None:  # always: the filter asked for these members' accounts
            by_user[account.user_id][account.kind] = account
    return by_user


def lock_accounts_of_member(user_id: int) -> dict[str, Account]:
    """One member's accounts by kind, created if missing and locked (see `lock_member_accounts`)."""
    return lock_member_accounts([user_id])[user_id]


def post_transaction(
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
        account.balance_fen = member_balance(account) + amount
    return txn


def member_balance(account: Account) -> int:
    """The cached balance of a member account. Never null for members (a database constraint); system
    accounts cache none (their balance is summed from entries), so asking for one is a programming error."""
    if account.balance_fen is None:
        raise LedgerImbalance(f"account {account.pk} ({account.kind}) caches no balance")
    return account.balance_fen


def applied_transaction(key: str) -> Transaction | None:
    """The transaction already posted under this idempotency key, if any."""
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


# The member account kinds `balances` reads, by the Balances field they fill.
_BALANCE_FIELDS = {
    "pending_fen": K.EARNINGS_PENDING,
    "available_fen": K.EARNINGS_AVAILABLE,
    "withdrawing_fen": K.EARNINGS_WITHDRAWING,
    "receivable_fen": K.RECEIVABLE,
}


def balances(user: Any) -> Balances:
    """A member's balances, in one query (no account rows are created by reading): the member's row
    with one subquery per cached account balance and the sum of their paid withdrawals."""
    if not getattr(user, "pk", None):
        return Balances()

    def cached(kind: str) -> Subquery:
        return Subquery(Account.objects.filter(user_id=OuterRef("pk"), kind=kind).values("balance_fen")[:1])

    withdrawn = (
        Withdrawal.objects.filter(user_id=OuterRef("pk"), status=Withdrawal.Status.PAID)
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    # Annotated under prefixed names so they never meet a column of the user model.
    annotations = {f"wallet_{name}": cached(kind) for name, kind in _BALANCE_FIELDS.items()}
    annotations["wallet_withdrawn_fen"] = Subquery(withdrawn)
    row = (
        get_user_model().objects.filter(pk=user.pk).annotate(**annotations).values_list(*annotations).first()
    )
    amounts = [int(value or 0) for value in row] if row else [0] * len(annotations)
    return Balances(**dict(zip([*_BALANCE_FIELDS, "withdrawn_fen"], amounts, strict=True)))


# ---- withdrawal postings (called by the withdrawal modules, inside their locked transaction) ---------


def post_withdraw(*, withdrawal: Withdrawal, accounts: dict[str, Account]) -> Transaction:
    """available → withdrawing. The caller checked available and receivable under the same locks."""
    return post_transaction(
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
    existing = applied_transaction(f"payout:{withdrawal.pk}")
    if existing is not None:
        return existing
    accounts = lock_accounts_of_member(withdrawal.user_id)
    return post_transaction(
        kind=Transaction.Kind.PAYOUT,
        key=f"payout:{withdrawal.pk}",
        user_id=withdrawal.user_id,
        reference=f"withdrawal:{withdrawal.pk}",
        description=_("提现到账"),
        lines=[
            (accounts[K.EARNINGS_WITHDRAWING], -withdrawal.amount_fen),
            (system_account(K.PAYOUT_CLEARING), withdrawal.amount_fen),
        ],
    )


def post_payout_return(*, withdrawal: Withdrawal, reason: str) -> Transaction:
    """withdrawing → available (rejected, cancelled, failed, expired). Money owed meanwhile is repaid first."""
    existing = applied_transaction(f"payout_return:{withdrawal.pk}")
    if existing is not None:
        return existing
    accounts = lock_accounts_of_member(withdrawal.user_id)
    receivable = accounts[K.RECEIVABLE]
    repay = min(withdrawal.amount_fen, -member_balance(receivable))
    return post_transaction(
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
