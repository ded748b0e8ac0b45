"""Refunds: requesting one (buyer, operator or the system), submitting it to WeChat, and ending it.

`refund_request` checks the funding chains and writes the `Refund`; `refund_submit` calls WeChat
after commit; the refund notification or the sweep's query ends it (`refund_complete`), running the
item type's `revoke` and the refunded listeners once. Automatic refunds repay a payment that did not
pay its order (`refund_auto_start`) or an order the system could not deliver
(`order_auto_refund_mark` / `order_auto_refund_start`).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments import items
from payments.gateways import gateway_for
from payments.gateways.base import GatewayError, RefundState
from payments.models import Order, Payment, Refund
from payments.orders.errors import AmountMismatch, unknown_record
from payments.orders.selectors import refund_window_open
from payments.orders.tasks import enqueue_after_commit
from payments.orders.transitions import order_lock, order_transition, refund_transition

logger = logging.getLogger(__name__)

S = Order.Status


def _new_out_refund_no(order: Order) -> str:
    return f"R{order.order_no}{secrets.token_hex(3).upper()}"


def refund_request(
    *,
    order: Order,
    amount_fen: int | None,
    reason: str,
    requested_by: Any,
    self_service: bool,
    system_cause: str = "",
) -> Refund:
    """Start a refund (full when amount_fen is None). One refund in flight per order.

    Self-service: the buyer, full amount, inside the item type's refund window. Operators may refund
    any paid amount left at any time. The WeChat call happens after commit, outside any lock.
    `system_cause`: the system refunds on its own authority (`refund_system_request`).
    """
    with transaction.atomic():
        locked = order_lock(order.pk)
        if self_service:
            if requested_by is None or locked.user_id != requested_by.pk:
                raise ApplicationError("not_found", _("订单不存在"), status_code=404)
            if amount_fen not in (None, locked.refundable_fen):
                raise ApplicationError("partial_self_refund", _("自助退款只能全额退款"))
        if locked.status == S.REFUNDING:
            raise ApplicationError("refund_in_progress", _("退款正在处理中"), status_code=409)
        if locked.status == S.REFUNDED:
            raise ApplicationError("already_refunded", _("订单已全额退款"), status_code=409)
        if locked.status not in (S.PAID, S.PARTIALLY_REFUNDED):
            raise ApplicationError("order_not_refundable", _("订单未支付，无法退款"), status_code=409)
        if self_service:
            if locked.status != S.PAID:
                raise ApplicationError("already_refunded", _("订单已退款，请联系客服"), status_code=409)
            if not refund_window_open(locked):
                raise ApplicationError("refund_window_closed", _("已超过可自助退款的期限"))
        amount = locked.refundable_fen if amount_fen is None else int(amount_fen)
        if amount <= 0 or amount > locked.refundable_fen:
            raise ApplicationError(
                "invalid_refund_amount",
                _("退款金额须大于0且不超过可退金额"),
                fields={"amount_fen": [_("可退金额为 %(n)s 分") % {"n": locked.refundable_fen}]},
            )
        payment = locked.payments.filter(status=Payment.Status.SUCCEEDED, needs_auto_refund=False).first()
        if payment is None:
            raise ApplicationError("order_not_refundable", _("找不到支付记录"), status_code=409)
        refusal = next(iter(items.refund_terms(order=locked, amount_fen=amount)), None)
        if refusal is not None and refusal.refusal_code and getattr(requested_by, "pk", None):
            # A funding chain forbids it (credit used by an upgrade, points already spent …). Refunds
            # the system starts because it could not deliver (requested by nobody) always go ahead.
            raise ApplicationError(refusal.refusal_code, refusal.text, status_code=409, extra=refusal.extra)
        refund = Refund.objects.create(
            order=locked,
            payment=payment,
            out_refund_no=_new_out_refund_no(locked),
            amount_fen=amount,
            reason=(reason or "")[:200],
            kind=_refund_kind(self_service=self_service, system_cause=system_cause),
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        )
        details: dict[str, Any] = {"by": f"system:{system_cause}"} if system_cause else {}
        order_transition(
            order=locked,
            to=S.REFUNDING,
            reason="refund_requested",
            actor=requested_by,
            **details,
            out_refund_no=refund.out_refund_no,
            amount_fen=amount,
        )
        for listener in items.refund_requested_listeners():
            listener(locked, refund)
        refund_pk = refund.pk
        transaction.on_commit(lambda: enqueue_after_commit("refund_submit", refund_pk))
    order.status = locked.status
    return refund


def refund_system_request(*, order: Order, reason: str, cause: str) -> Refund:
    """A full refund the system starts on its own authority: `cause` names the rule that owes it
    (`auto_refund_due` for an order marked by `order_auto_refund_mark`, `group_buy_seat:<id>`,
    `paid_question_expired:<id>`). Kind `system`, no requested_by; the order's refund_requested event
    says `by=system:<cause>`, so operators see in admin why and by what the money moved."""
    return refund_request(
        order=order, amount_fen=None, reason=reason, requested_by=None, self_service=False, system_cause=cause
    )


def _refund_kind(*, self_service: bool, system_cause: str) -> str:
    if system_cause:
        return Refund.Kind.SYSTEM
    return Refund.Kind.SELF_SERVICE if self_service else Refund.Kind.OPERATOR


def order_auto_refund_mark(*, order_no: str, reason: str, order: Order | None = None) -> bool:
    """Record that the system owes `order_no` a full refund (see `Order.auto_refund_due_at`).

    Called by the app that sold the item, inside the paying transaction, before it enqueues the refund
    task; the mark commits or rolls back with the payment. Only paid orders can be marked. Idempotent:
    marking twice keeps the first time and reason. Returns whether the order carries the mark.

    `order`: the in-memory order being fulfilled, when the caller has it; it carries the mark too, so
    the paid listeners that run next in the same transaction (points) see that nothing was delivered.
    """
    now = timezone.now()
    Order.objects.filter(
        order_no=order_no, status__in=(S.PAID, S.PARTIALLY_REFUNDED), auto_refund_due_at__isnull=True
    ).update(auto_refund_due_at=now, auto_refund_reason=(reason or "")[:200], updated_at=now)
    marked = Order.objects.filter(order_no=order_no, auto_refund_due_at__isnull=False).exists()
    if marked and order is not None and order.auto_refund_due_at is None:
        order.auto_refund_due_at, order.auto_refund_reason = now, (reason or "")[:200]
    return marked


def order_auto_refund_start(*, order_no: str) -> Refund | None:
    """The refund task's service: refund in full an order the system marked as owed a refund.

    An order without the mark is refused (a warning in the log, nothing changed): the task takes an
    order number, and an order number alone must not be able to move money. Nothing left to refund
    (already refunding or refunded) is not an error: the task is safe to run twice."""
    order = Order.objects.filter(order_no=order_no).first()
    if order is None or order.auto_refund_due_at is None:
        logger.warning("refused automatic refund of %s: the system never marked it as owed one", order_no)
        return None
    if order.status not in (S.PAID, S.PARTIALLY_REFUNDED):
        return None
    try:
        return refund_system_request(order=order, reason=order.auto_refund_reason, cause="auto_refund_due")
    except ApplicationError as exc:  # already refunding / refunded meanwhile: nothing left to do
        logger.info("automatic refund of %s not started: %s", order_no, exc.code)
        return None


def refund_auto_start(*, payment_id: int) -> Refund | None:
    """Refund a payment that did not pay its order (closed order, paid twice). Idempotent."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("order").get(pk=payment_id)
        if not payment.needs_auto_refund:
            return None
        existing = payment.refunds.filter(kind=Refund.Kind.AUTO).exclude(status=Refund.Status.CLOSED).first()
        if existing is not None:
            refund = existing
        else:
            refund = Refund.objects.create(
                order=payment.order,
                payment=payment,
                out_refund_no=_new_out_refund_no(payment.order),
                amount_fen=payment.amount_fen,
                reason=_("订单已关闭或已支付，自动退回重复付款"),
                kind=Refund.Kind.AUTO,
            )
    if refund.status in Refund.ACTIVE:
        refund_submit(refund_id=refund.pk)
    return refund


def refund_submit(*, refund_id: int) -> Refund | None:
    """Call the provider for a pending refund (same out_refund_no on every retry) and record it."""
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status not in Refund.ACTIVE:
        return refund
    gateway = gateway_for(refund.payment.channel)
    error: GatewayError | None = None
    state: RefundState | None = None
    try:
        state = gateway.refund(
            out_refund_no=refund.out_refund_no,
            out_trade_no=refund.payment.out_trade_no,
            transaction_id=refund.payment.transaction_id or "",
            amount_fen=refund.amount_fen,
            total_fen=refund.payment.amount_fen,
            reason=refund.reason,
        )
    except GatewayError as exc:
        error = exc
    with transaction.atomic():
        order_lock(refund.order_id)
        locked = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        if locked.status not in Refund.ACTIVE:
            return locked
        locked.attempts += 1
        if error is not None:
            locked.last_error = str(error)[:255]
            locked.save(update_fields=["attempts", "last_error"])
            if not error.retryable:
                logger.error("refund %s refused: %s", locked.out_refund_no, error)
                _refund_finish(refund=locked, status=Refund.Status.CLOSED)
            return locked
        assert state is not None
        submitted = {
            "attempts": locked.attempts,
            "refund_id": state.refund_id or locked.refund_id,
            "last_error": "",
        }
        if locked.status == Refund.Status.PENDING:
            refund_transition(refund=locked, to=Refund.Status.PROCESSING, updates=submitted)
        else:  # a retry of a refund WeChat already accepted: no move, only the attempt is recorded
            for name, value in submitted.items():
                setattr(locked, name, value)
            locked.save(update_fields=[*submitted])
        if state.status in ("SUCCESS", "CLOSED", "ABNORMAL"):
            _refund_finish(refund=locked, status=_REFUND_STATUS[state.status])
        else:
            out_refund_no = locked.out_refund_no
            transaction.on_commit(lambda: gateway.after_refund_submitted(out_refund_no))
    return locked


_REFUND_STATUS = {
    "SUCCESS": Refund.Status.SUCCEEDED,
    "CLOSED": Refund.Status.CLOSED,
    "ABNORMAL": Refund.Status.ABNORMAL,
}


def _refund_finish(*, refund: Refund, status: str) -> None:
    """Inside the order lock: end an in-flight refund; revoke + listeners once on success."""
    order = order_lock(refund.order_id)
    refund_transition(refund=refund, to=status)
    if refund.kind == Refund.Kind.AUTO:
        return  # the order was never paid by this payment: nothing to revoke
    if status == Refund.Status.SUCCEEDED:
        order.refunded_fen += refund.amount_fen
        order.save(update_fields=["refunded_fen", "updated_at"])
        to = S.REFUNDED if order.refunded_fen >= order.amount_fen else S.PARTIALLY_REFUNDED
        order_transition(
            order=order,
            to=to,
            reason="refund_succeeded",
            out_refund_no=refund.out_refund_no,
            amount_fen=refund.amount_fen,
        )
        items.get(order.item_type).revoke(order=order, refund=refund)
        for listener in items.refunded_listeners():
            listener(order, refund)
    else:
        to = S.PARTIALLY_REFUNDED if order.refunded_fen > 0 else S.PAID
        order_transition(order=order, to=to, reason=f"refund_{status}", out_refund_no=refund.out_refund_no)
        for listener in items.refund_failed_listeners():
            listener(order, refund)


def refund_complete(
    *, out_refund_no: str, status: str, refund_id: str = "", amount_fen: int | None = None
) -> Refund:
    """Record the provider's final word on a refund (notification or query). Idempotent."""
    ref = Refund.objects.filter(out_refund_no=out_refund_no).values_list("order_id", flat=True).first()
    if ref is None:
        raise unknown_record("out_refund_no")
    with transaction.atomic():
        order_lock(ref)
        refund = Refund.objects.select_for_update(of=("self",)).get(out_refund_no=out_refund_no)
        if amount_fen is not None and int(amount_fen) != refund.amount_fen:
            raise AmountMismatch(refund.amount_fen, int(amount_fen))
        if refund.status not in Refund.ACTIVE:
            return refund
        if refund_id and not refund.refund_id:
            refund.refund_id = refund_id
            refund.save(update_fields=["refund_id"])
        if status in _REFUND_STATUS:
            _refund_finish(refund=refund, status=_REFUND_STATUS[status])
    return refund


def refund_sync(*, refund: Refund) -> Refund | None:
    """Retry a pending refund or query an in-flight one (the refund side of 'no reliance on callbacks')."""
    if refund.status == Refund.Status.PENDING:
        return refund_submit(refund_id=refund.pk)
    try:
        state = gateway_for(refund.payment.channel).query_refund(refund.out_refund_no)
    except GatewayError as exc:
        logger.info("query refund %s failed: %s", refund.out_refund_no, exc)
        return refund
    if state.status in _REFUND_STATUS:
        return refund_complete(
            out_refund_no=refund.out_refund_no, status=state.status, refund_id=state.refund_id
        )
    return refund
