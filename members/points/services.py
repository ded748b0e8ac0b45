"""Points (积分): the append-only ledger of each member's points (award, spend, claw back, an operator's
adjustment), the paid-order listener that earns points for purchases and the sign-up bonus.

Every move is exactly once per idempotency key. Contracts other apps code against: `points_award`,
`points_spend`, `points_clawback`, `points_post`. The sign-up listener gives the 新人礼包
(`POINTS_SIGNUP_BONUS`)."""

from __future__ import annotations

from contextlib import nullcontext

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from core.sql import insert_unless_conflict
from members.models import PointsAccount, PointsEntry, User
from members.points.selectors import points_signup_bonus


class InsufficientPoints(ApplicationError):
    def __init__(self, *, balance: int, needed: int):
        super().__init__(
            "insufficient_points",
            _("积分不足：需要 %(needed)s 积分，当前 %(balance)s 积分")
            % {"needed": needed, "balance": balance},
            extra={"balance": balance, "needed": needed},
        )


def _points_account_locked(user_id: int) -> PointsAccount:
    # Lock first: the account exists for every member who ever had points, so this is one statement;
    # only a member's first entry pays for get_or_create and a second lock.
    account = PointsAccount.objects.select_for_update(of=("self",)).filter(user_id=user_id).first()
    if account is None:
        PointsAccount.objects.get_or_create(user_id=user_id)
        account = PointsAccount.objects.select_for_update(of=("self",)).get(user_id=user_id)
    return account


def _points_entry_insert(
    *, account: PointsAccount, amount: int, reason: str, idempotency_key: str
) -> PointsEntry | None:
    """The new entry, or None when the idempotency key is taken (one statement: core.sql)."""
    entry = PointsEntry(
        account=account,
        user_id=account.user_id,
        amount=amount,
        balance_after=account.balance + amount,
        reason=(reason or "")[:200],
        idempotency_key=idempotency_key[:128],
        created_at=timezone.now(),
    )
    return insert_unless_conflict(entry, conflict_on=("idempotency_key",))


def _points_existing(*, user_id: int, amount: int, idempotency_key: str) -> PointsEntry:
    """The entry already posted under this key, if it is the same kind of move for the same member."""
    existing = PointsEntry.objects.get(idempotency_key=idempotency_key[:128])
    if existing.user_id != user_id or (existing.amount > 0) != (amount > 0):
        raise ApplicationError("idempotency_conflict", _("该操作编号已用于另一笔积分变动"), status_code=409)
    return existing


def points_post(*, user_id: int, amount: int, reason: str, idempotency_key: str, cap_at_balance=False):
    """Append one entry and move the balance, exactly once per idempotency key (unique column).

    Three statements when the member has an account: lock it, insert the entry unless its key is
    taken, update the balance. Inside a caller's transaction no savepoint is opened: nothing is
    written before the last check that can refuse, so a refusal leaves that transaction usable.
    """
    if not idempotency_key:
        raise ValueError("points need an idempotency_key")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError("points amount must be a non-zero integer")
    with transaction.atomic() if not connection.in_atomic_block else nullcontext():
        account = _points_account_locked(user_id)
        if amount < 0 and account.balance < -amount:
            # A retried spend must answer with its first entry, not with "insufficient".
            if PointsEntry.objects.filter(idempotency_key=idempotency_key[:128]).exists():
                return _points_existing(user_id=user_id, amount=amount, idempotency_key=idempotency_key)
            if not cap_at_balance:
                raise InsufficientPoints(balance=account.balance, needed=-amount)
            amount = -account.balance
            if amount == 0:
                return None
        entry = _points_entry_insert(
            account=account, amount=amount, reason=reason, idempotency_key=idempotency_key
        )
        if entry is None:  # posted before (a retry), or the key was used for another member
            return _points_existing(user_id=user_id, amount=amount, idempotency_key=idempotency_key)
        account.balance += amount
        if amount > 0:
            account.earned_total += amount
        else:
            account.spent_total += -amount
        account.save(update_fields=["balance", "earned_total", "spent_total", "updated_at"])
    return entry


def _check_points_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("points amounts are positive integers")


def points_award(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry:
    """Credit points (check-ins, referrals, purchases…). A repeated key returns the first entry."""
    _check_points_amount(amount)
    return points_post(user_id=user.pk, amount=amount, reason=reason, idempotency_key=idempotency_key)


def points_spend(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry:
    """Debit points; refuses to overdraw (`insufficient_points`). A repeated key returns the first entry."""
    _check_points_amount(amount)
    return points_post(user_id=user.pk, amount=-amount, reason=reason, idempotency_key=idempotency_key)


def points_clawback(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry | None:
    """Take back up to `amount` points (e.g. a refunded purchase); never below zero."""
    if amount <= 0:
        return None
    return points_post(
        user_id=user.pk, amount=-amount, reason=reason, idempotency_key=idempotency_key, cap_at_balance=True
    )


def points_per_yuan() -> int:
    return int(getattr(settings, "POINTS_PER_YUAN", 1))


def points_for_signup(*, user: User, referral_code: str = "", source: str = "") -> None:
    """Sign-up listener (members.auth.services.on_user_signed_up): the 新人礼包, once per member.

    The same for every new member whoever invited them: it rewards joining, not inviting (no one
    earns anything for another's sign-up, docs/architecture.md §2)."""
    bonus = points_signup_bonus()
    if bonus <= 0:
        return
    points_post(
        user_id=user.pk,
        amount=bonus,
        reason=_("新人礼包：注册赠送 %(points)s 积分") % {"points": bonus},
        idempotency_key=f"signup-bonus:{user.pk}",
    )


def points_for_order_paid(order) -> None:
    """Paid listener: purchases earn points (POINTS_PER_YUAN per whole yuan paid).

    A group-buy seat earns nothing while its group forms (an expired group refunds it); the gift
    order granted when the group succeeds earns for what the seat paid (`funded_fen`). An order its
    item could not honour (marked for an automatic refund while fulfilling) earns nothing.
    """
    if order.item_type == "group_buy" or getattr(order, "auto_refund_due_at", None):
        # Nothing delivered yet (group forming) or never (full, paid twice: refunded after commit).
        return
    paid_fen = order.amount_fen + int((order.context or {}).get("funded_fen", 0) or 0)
    points = paid_fen // 100 * points_per_yuan()
    if points <= 0:
        return
    # By id: loading the buyer's row only to read its pk was one statement on every paid order.
    points_post(
        user_id=order.user_id,
        amount=points,
        reason=_("购买「%(title)s」") % {"title": order.title[:60]},
        idempotency_key=f"order-paid:{order.order_no}",
    )


def points_adjust(
    *, user: User, amount: int, reason: str, operator: User, idempotency_key: str
) -> PointsEntry:
    """An operator adds (amount > 0) or deducts (amount < 0) points, with a reason; audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", _("请填写原因"), fields={"reason": [_("必填")]})
    with transaction.atomic():
        if amount > 0:
            entry = points_award(user=user, amount=amount, reason=reason, idempotency_key=idempotency_key)
        else:
            entry = points_spend(user=user, amount=-amount, reason=reason, idempotency_key=idempotency_key)
        audit_record(actor=operator, action="points_adjust", target=entry, summary=reason, amount=amount)
    return entry
