"""payments.wallet.withdrawal_payouts: paying an approved withdrawal by WeChat 商家转账 (or the sandbox),
and what happens when that fails.

Provider calls follow docs/architecture.md §4: claim the row and commit; call WeChat with no lock
held; lock again, re-check, record. `out_bill_no` is fixed when the withdrawal is created and reused
on every retry; any non-200 answer (or none) is followed by a query, never by a new number. A refused
bill fails the withdrawal and returns the money; a bill still unconfirmed 24 hours later is cancelled
at WeChat and the money returns to available. WeChat's transfer notifications land here too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from payments.gateways import transfer_gateway_for
from payments.gateways.base import GatewayError, TransferRequest, TransferState
from payments.gateways.wechatpay import VerifiedNotification, transfer_state_from
from payments.models import PaymentNotification, PayoutMethod, Withdrawal, WithdrawalSettings
from payments.orders.notifications import NotifyResult, notification_finish, notification_receive
from payments.wallet.withdrawals import (
    REAL_NAME_FROM_FEN,
    TRANSFER_METHODS,
    lock_withdrawal,
    require_money_operator,
    withdrawal_transition,
)

logger = logging.getLogger(__name__)

S = Withdrawal.Status
CONFIRM_WINDOW = timedelta(hours=24)  # the member must confirm receipt within 24 hours
# Business errors after which the same bill may simply be sent again later (same out_bill_no).
RETRY_LATER_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "network_error"}

# WeChat bill state → our status (CANCELING: wait for the query to say CANCELLED).
_STATE_TO_STATUS = {
    "ACCEPTED": S.TRANSFERRING,
    "PROCESSING": S.TRANSFERRING,
    "TRANSFERING": S.TRANSFERRING,
    "WAIT_USER_CONFIRM": S.WAIT_USER_CONFIRM,
    "SUCCESS": S.PAID,
    "FAIL": S.FAILED,
}


def transfer_notify_url() -> str:
    return getattr(settings, "WECHATPAY_TRANSFER_NOTIFY_URL", "") or (
        settings.SITE_URL + reverse("payments:transfer_notify")
    )


def _transfer_request(withdrawal: Withdrawal) -> TransferRequest:
    conf = WithdrawalSettings.current()
    return TransferRequest(
        out_bill_no=withdrawal.out_bill_no,
        amount_fen=withdrawal.amount_fen,
        openid=withdrawal.payee_openid
        or ("o_sandbox_payee" if withdrawal.method == PayoutMethod.SANDBOX else ""),
        appid=withdrawal.payee_appid,
        remark=conf.remark_text,
        scene_id=conf.transfer_scene_id,
        scene_report_infos=list(conf.scene_report_infos or []),
        user_name=withdrawal.real_name if withdrawal.amount_fen >= REAL_NAME_FROM_FEN else "",
        user_recv_perception=conf.user_recv_perception,
        notify_url=transfer_notify_url(),
    )


def _record_error(withdrawal_id: int, error: Exception, *, outcome_unknown: bool) -> Withdrawal | None:
    Withdrawal.objects.filter(pk=withdrawal_id).update(
        last_error=str(error)[:255], outcome_unknown=outcome_unknown, updated_at=timezone.now()
    )
    return Withdrawal.objects.filter(pk=withdrawal_id).first()


def withdrawal_submit(*, withdrawal_id: int) -> Withdrawal | None:
    """Send an approved withdrawal to WeChat (or the sandbox). Safe to run any number of times.

    A non-200 answer, or none, is followed by a query of the same out_bill_no: a bill WeChat has is
    recorded; NOT_FOUND after a retryable error leaves it for the sweep to send again (same number);
    NOT_FOUND after a definitive refusal fails the withdrawal and returns the money."""
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal_id)
        if locked is None or locked.method not in TRANSFER_METHODS:
            return locked
        if locked.status == S.APPROVED:
            locked.submitted_at = timezone.now()
            withdrawal_transition(withdrawal=locked, to=S.TRANSFERRING, reason="submitted")
        elif not (locked.status == S.TRANSFERRING and not locked.transfer_bill_no):
            return locked  # already at WeChat (or finished): the sweep queries it instead
        query_first = locked.outcome_unknown
        locked.outcome_unknown = True
        locked.attempts += 1
        locked.save(update_fields=["outcome_unknown", "attempts", "updated_at"])
    gateway = transfer_gateway_for(locked.method)
    if query_first:  # an earlier attempt may have reached WeChat: never send blind
        try:
            state = gateway.query_transfer(locked.out_bill_no)
        except GatewayError as exc:
            return _record_error(locked.pk, exc, outcome_unknown=True)
        if state.state != "NOT_FOUND":
            return transfer_record(withdrawal_id=locked.pk, state=state)
    try:
        state = gateway.transfer(_transfer_request(locked))
    except GatewayError as exc:
        logger.warning("transfer %s answered %s: querying before anything else", locked.out_bill_no, exc)
        try:
            state = gateway.query_transfer(locked.out_bill_no)
        except GatewayError as query_exc:
            return _record_error(locked.pk, query_exc, outcome_unknown=True)
        if state.state != "NOT_FOUND":
            return transfer_record(withdrawal_id=locked.pk, state=state)
        if exc.retryable or exc.code in RETRY_LATER_CODES:
            if exc.code == "NOT_ENOUGH":
                logger.error("ALERT merchant balance too low for transfer %s", locked.out_bill_no)
            return _record_error(locked.pk, exc, outcome_unknown=False)  # the sweep sends the same bill again
        return _fail(withdrawal_id=locked.pk, reason=f"{exc.code}: {exc.message}"[:200])
    return transfer_record(withdrawal_id=locked.pk, state=state)


def _fail(*, withdrawal_id: int, reason: str) -> Withdrawal | None:
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal_id)
        if locked is None or locked.status not in (S.TRANSFERRING, S.WAIT_USER_CONFIRM):
            return locked
        locked.fail_reason, locked.outcome_unknown, locked.last_error = reason, False, reason[:255]
        withdrawal_transition(withdrawal=locked, to=S.FAILED, reason="transfer_refused", error=reason)
    logger.warning("withdrawal %s failed: %s (money returned)", withdrawal_id, reason)
    return locked


def transfer_record(
    *, withdrawal_id: int, state: TransferState, reason: str = "transfer_state", expiring: bool = False
) -> Withdrawal | None:
    """Record what WeChat says about a bill (create answer, query, notification). Idempotent.

    A CANCELLED bill is `expired` when its confirmation deadline has passed (or the expiry sweep
    cancelled it), `cancelled` otherwise."""
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal_id)
        if locked is None:
            return None
        now = timezone.now()
        locked.outcome_unknown = False
        locked.queried_at = now
        locked.last_error = ""
        if state.amount_fen and state.amount_fen != locked.amount_fen:
            logger.error(
                "ALERT transfer %s amount %s differs from withdrawal %s: not acted on",
                locked.out_bill_no,
                state.amount_fen,
                locked.amount_fen,
            )
            locked.last_error = f"amount_mismatch: {state.amount_fen}"
            locked.save()
            return locked
        if state.transfer_bill_no and not locked.transfer_bill_no:
            locked.transfer_bill_no = state.transfer_bill_no
        if state.state:
            locked.transfer_state = state.state
        if state.package_info:
            locked.package_info = state.package_info
        if state.state == "WAIT_USER_CONFIRM" and locked.confirm_deadline is None:
            locked.confirm_deadline = now + CONFIRM_WINDOW
        if state.state == "CANCELLED":
            expired = expiring or (locked.confirm_deadline is not None and now >= locked.confirm_deadline)
            target: str | None = S.EXPIRED if expired else S.CANCELLED
        else:
            target = _STATE_TO_STATUS.get(state.state)
        if state.state == "FAIL":
            locked.fail_reason = (state.fail_reason or "FAIL")[:200]
        if locked.status in (S.PAID, *Withdrawal.RETURNED):
            if target and target != locked.status:
                logger.error(
                    "ALERT transfer %s is %s at WeChat but withdrawal %s is %s",
                    locked.out_bill_no,
                    state.state,
                    locked.pk,
                    locked.status,
                )
            locked.save()
            return locked
        if target and target != locked.status:
            withdrawal_transition(withdrawal=locked, to=target, reason=reason, wechat_state=state.state)
        else:
            locked.save()
    return locked


def withdrawal_sync(*, withdrawal: Withdrawal) -> Withdrawal | None:
    """Ask WeChat about a bill in flight and record the answer (sweep, confirm API, admin)."""
    if withdrawal.method not in TRANSFER_METHODS:
        return withdrawal
    if withdrawal.status in (S.APPROVED,) or (
        withdrawal.status == S.TRANSFERRING and not withdrawal.transfer_bill_no
    ):
        return withdrawal_submit(withdrawal_id=withdrawal.pk)
    if withdrawal.status not in (S.TRANSFERRING, S.WAIT_USER_CONFIRM):
        return withdrawal
    try:
        state = transfer_gateway_for(withdrawal.method).query_transfer(withdrawal.out_bill_no)
    except GatewayError as exc:
        logger.info("query transfer %s failed: %s", withdrawal.out_bill_no, exc)
        return _record_error(withdrawal.pk, exc, outcome_unknown=withdrawal.outcome_unknown)
    if state.state == "NOT_FOUND":
        logger.error(
            "ALERT transfer %s has a bill number but WeChat does not know it", withdrawal.out_bill_no
        )
        return withdrawal
    return transfer_record(withdrawal_id=withdrawal.pk, state=state, reason="transfer_query")


def withdrawal_cancel_transfer(
    *, withdrawal: Withdrawal, operator: Any = None, expiring: bool = False
) -> Withdrawal | None:
    """Cancel a bill the member has not confirmed (operator action, or the 24-hour expiry sweep with
    `expiring=True`). The money returns only once WeChat says CANCELLED."""
    if operator is not None:
        require_money_operator(operator)
    if withdrawal.method not in TRANSFER_METHODS or withdrawal.status not in (
        S.TRANSFERRING,
        S.WAIT_USER_CONFIRM,
    ):
        raise ApplicationError("cannot_cancel", _("该提现当前不能撤销"), status_code=409)
    gateway = transfer_gateway_for(withdrawal.method)
    try:
        state = gateway.query_transfer(withdrawal.out_bill_no)
        if state.state in ("ACCEPTED", "WAIT_USER_CONFIRM"):
            gateway.cancel_transfer(withdrawal.out_bill_no)
            state = gateway.query_transfer(withdrawal.out_bill_no)
    except GatewayError as exc:
        logger.warning("cancel transfer %s failed: %s", withdrawal.out_bill_no, exc)
        return _record_error(withdrawal.pk, exc, outcome_unknown=False)
    result = transfer_record(
        withdrawal_id=withdrawal.pk,
        state=state,
        reason="transfer_expired" if expiring else "transfer_cancel",
        expiring=expiring,
    )
    if operator is not None and result is not None:
        audit_record(
            actor=operator,
            action="withdrawal_cancel_transfer",
            target=result,
            summary=f"撤销未确认的转账 {result.out_bill_no}（{state.state}）",
            wechat_state=state.state,
        )
    return result


def withdrawals_sweep(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Every few minutes: submit approved transfers whose task was lost, retry unanswered ones (query
    first), sync bills in flight (notifications are not guaranteed), and cancel bills left unconfirmed
    for 24 hours so their money returns to available."""
    now = now or timezone.now()
    counts = {"submitted": 0, "synced": 0, "expired": 0}
    for withdrawal in Withdrawal.objects.filter(
        method__in=TRANSFER_METHODS, status=S.APPROVED, updated_at__lte=now - timedelta(minutes=1)
    ).order_by("pk")[:limit]:
        counts["submitted"] += 1
        withdrawal_submit(withdrawal_id=withdrawal.pk)
    for withdrawal in Withdrawal.objects.filter(
        method__in=TRANSFER_METHODS,
        status=S.TRANSFERRING,
        transfer_bill_no__isnull=True,
        updated_at__lte=now - timedelta(minutes=2),
    ).order_by("pk")[:limit]:
        counts["submitted"] += 1
        withdrawal_submit(withdrawal_id=withdrawal.pk)
    for withdrawal in Withdrawal.objects.filter(
        method__in=TRANSFER_METHODS, status=S.WAIT_USER_CONFIRM, confirm_deadline__lte=now
    ).order_by("confirm_deadline")[:limit]:
        result = withdrawal_cancel_transfer(withdrawal=withdrawal, expiring=True)
        if result is not None and result.status == S.EXPIRED:
            counts["expired"] += 1
    in_flight = (
        Withdrawal.objects.filter(
            method__in=TRANSFER_METHODS,
            status__in=[S.TRANSFERRING, S.WAIT_USER_CONFIRM],
            transfer_bill_no__isnull=False,
        )
        .exclude(queried_at__gt=now - timedelta(minutes=4))
        .order_by("queried_at", "pk")[:limit]
    )
    for withdrawal in in_flight:
        counts["synced"] += 1
        withdrawal_sync(withdrawal=withdrawal)
    return counts


def confirm_params(*, withdrawal: Withdrawal) -> dict[str, str]:
    """The arguments of wx.requestMerchantTransfer for the member's confirm-receipt step."""
    if withdrawal.status != S.WAIT_USER_CONFIRM or not withdrawal.package_info:
        raise ApplicationError(
            "not_awaiting_confirmation",
            _("该提现当前无需确认收款"),
            status_code=409,
            extra={"status": withdrawal.status},
        )
    return transfer_gateway_for(withdrawal.method).confirm_params(
        package_info=withdrawal.package_info, appid=withdrawal.payee_appid
    )


# ---- WeChat's transfer notifications -----------------------------------------------------------------


def transfer_notification_handle(*, body: bytes, meta: dict[str, Any], remote_addr: str = "") -> NotifyResult:
    """Verify, store, deduplicate and act on one MCHTRANSFER.BILL.FINISHED notification."""
    note, verified, answer = notification_receive(body=body, meta=meta, remote_addr=remote_addr)
    if answer is not None:
        return answer
    if note is None or not isinstance(
        verified, VerifiedNotification
    ):  # not answered means stored and verified
        raise RuntimeError("notification_receive returned neither an answer nor a verified notification")
    resource = verified.resource
    out_bill_no = str(resource.get("out_bill_no", ""))
    withdrawal = Withdrawal.objects.filter(out_bill_no=out_bill_no).first()

    if not verified.event_type.startswith("MCHTRANSFER."):
        notification_finish(note, PaymentNotification.Outcome.PROCESSED, "ignored event type")
        return NotifyResult(204)
    if withdrawal is None:
        notification_finish(note, PaymentNotification.Outcome.ERROR, f"unknown out_bill_no {out_bill_no}")
        return NotifyResult(404, "FAIL", _("找不到对应的提现"))
    state = transfer_state_from(resource, out_bill_no=out_bill_no)
    if state.amount_fen != withdrawal.amount_fen:
        logger.error("ALERT transfer notification amount mismatch: %s %s", out_bill_no, state.amount_fen)
        notification_finish(
            note,
            PaymentNotification.Outcome.ALERT,
            f"amount_mismatch: {state.amount_fen} != {withdrawal.amount_fen}",
        )
        return NotifyResult(400, "FAIL", _("金额与提现不一致"))
    try:
        with transaction.atomic():
            transfer_record(withdrawal_id=withdrawal.pk, state=state, reason="transfer_notification")
            PaymentNotification.objects.filter(pk=note.pk).update(
                notification_id=verified.id,
                outcome=PaymentNotification.Outcome.PROCESSED,
                processed_at=timezone.now(),
            )
    except IntegrityError:
        notification_finish(note, PaymentNotification.Outcome.DUPLICATE)
        return NotifyResult(200)
    except Exception as exc:  # noqa: BLE001 - record, answer 5xx so WeChat retries
        logger.exception("transfer notification %s failed", verified.id)
        notification_finish(note, PaymentNotification.Outcome.ERROR, f"{type(exc).__name__}: {exc}")
        return NotifyResult(500, "FAIL", _("处理失败"))
    return NotifyResult(204)
