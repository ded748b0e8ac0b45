"""payments.wallet.earnings: what members earn, held for the refund window, and its reversal.

The contract other apps call (commissions, staff share, tips, paid Q&A):

- `earning_accrue(...)` — a held earning (earnings_pending); idempotent on its key.
- `earning_reverse(...)` — a refund: voids while held (`earning_void`), claws back after settlement
  (`earning_clawback`: available first, the rest from receivable, which may go negative).
- `earning_deduct(...)` — a debit not tied to one earning (available first, then receivable).

Held earnings are released to available by the nightly batch in payments.wallet.settlement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.models import AccountKind, Earning, Order, Transaction
from payments.wallet.ledger import (
    applied_transaction,
    lock_accounts_of_member,
    member_balance,
    post_transaction,
    source_account_kind,
    system_account,
    valid_amount_fen,
    valid_idempotency_key,
)

K = AccountKind


def earning_accrue(
    *,
    user: Any,
    amount_fen: int,
    source: str,
    idempotency_key: str,
    hold_until: datetime,
    order: Order | None = None,
    description: str = "",
) -> Earning:
    """Record a held earning (earnings_pending ← the source's system account). Idempotent on the key:
    a second call with the same key returns the first row and posts nothing. Safe inside a transaction."""
    amount = valid_amount_fen(amount_fen)
    key = valid_idempotency_key(idempotency_key)
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
            accounts = lock_accounts_of_member(user.pk)
            earning = Earning.objects.create(
                user_id=user.pk,
                amount_fen=amount,
                source=source,
                order=order,
                hold_until=hold_until,
                idempotency_key=key,
                description=(description or "")[:200],
            )
            post_transaction(
                kind=Transaction.Kind.ACCRUE,
                key=f"accrue:{key}",
                user_id=user.pk,
                reference=f"earning:{earning.pk}",
                description=earning.description or earning.source_label,
                lines=[
                    (accounts[K.EARNINGS_PENDING], amount),
                    (system_account(source_account_kind(source)), -amount),
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
    accounts = lock_accounts_of_member(earning.user_id)
    txn = post_transaction(
        kind=Transaction.Kind.VOID,
        key=f"reverse:{key}",
        user_id=earning.user_id,
        reference=f"earning:{earning.pk}",
        description=reason or _("冻结期内退款，收益作废"),
        lines=[
            (accounts[K.EARNINGS_PENDING], -amount),
            (system_account(source_account_kind(earning.source)), amount),
        ],
    )
    earning.reversed_fen += amount
    if earning.reversed_fen == earning.amount_fen:
        earning.status = Earning.Status.VOIDED
    earning.save(update_fields=["reversed_fen", "status"])
    return txn


def _clawback(earning: Earning, amount: int, key: str, reason: str) -> Transaction:
    _check_reversible(earning, amount)
    accounts = lock_accounts_of_member(earning.user_id)
    available = accounts[K.EARNINGS_AVAILABLE]
    taken = min(amount, member_balance(available))
    txn = post_transaction(
        kind=Transaction.Kind.CLAWBACK,
        key=f"reverse:{key}",
        user_id=earning.user_id,
        reference=f"earning:{earning.pk}",
        description=reason or _("结算后退款，收益追回"),
        lines=[
            (available, -taken),
            (accounts[K.RECEIVABLE], -(amount - taken)),
            (system_account(source_account_kind(earning.source)), amount),
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
    amount = valid_amount_fen(amount_fen)
    key = valid_idempotency_key(idempotency_key)
    with transaction.atomic():
        locked = Earning.objects.select_for_update(of=("self",)).get(pk=earning.pk)
        if applied_transaction(f"reverse:{key}") is None:
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


def earning_deduct(*, user: Any, amount_fen: int, idempotency_key: str, reason: str = "") -> Transaction:
    """A debit not tied to one earning (e.g. a staff-share correction): available first, then receivable."""
    amount = valid_amount_fen(amount_fen)
    key = valid_idempotency_key(idempotency_key)
    if not getattr(user, "pk", None):
        raise ApplicationError("invalid_user", _("扣减必须针对一位会员"))
    with transaction.atomic():
        accounts = lock_accounts_of_member(user.pk)
        existing = applied_transaction(f"deduct:{key}")
        if existing is not None:
            return existing
        available = accounts[K.EARNINGS_AVAILABLE]
        taken = min(amount, member_balance(available))
        return post_transaction(
            kind=Transaction.Kind.DEDUCT,
            key=f"deduct:{key}",
            user_id=user.pk,
            reference=f"deduct:{key}"[:64],
            description=reason or _("扣减"),
            lines=[
                (available, -taken),
                (accounts[K.RECEIVABLE], -(amount - taken)),
                (system_account(K.ADJUSTMENTS), amount),
            ],
        )
