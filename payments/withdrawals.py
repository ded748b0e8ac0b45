"""payments.withdrawals: members withdraw available earnings; finance approves; WeChat pays (商家转账,
the member confirms receipt in the mini-program) or an operator records a manual bank transfer.

State machine (one table, one WithdrawalEvent per move); the money moves in the same database
transaction as the state change, through payments.ledger:

    pending_review ─approve→ approved ─submit→ transferring ⇄ wait_user_confirm ─→ paid
          │                     │                    │                │
          └→ rejected/cancelled └→ paid (bank)        └→ failed / cancelled / expired (money returned)

Provider calls follow docs/architecture.md §4: claim the row and commit; call WeChat with no lock held;
lock again, re-check, record. `out_bill_no` is fixed when the withdrawal is created and reused on
every retry; any non-200 answer (or none) is followed by a query, never by a new number. A bill
still unconfirmed 24 hours later is cancelled at WeChat and the money returns to available.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from core.roles import is_money_operator
from payments import ledger
from payments.gateways import transfer_gateway_for
from payments.gateways.base import GatewayError, TransferRequest, TransferState
from payments.models import (
    AccountKind,
    PaymentNotification,
    PayoutMethod,
    Withdrawal,
    WithdrawalEvent,
    WithdrawalSettings,
)

logger = logging.getLogger(__name__)

S = Withdrawal.Status
REAL_NAME_FROM_FEN = 200_000  # WeChat: the payee's real name is required from ¥2,000
CONFIRM_WINDOW = timedelta(hours=24)  # the member must confirm receipt within 24 hours
TRANSFER_METHODS = (PayoutMethod.WECHAT, PayoutMethod.SANDBOX)
# Business errors after which the same bill may simply be sent again later (same out_bill_no).
RETRY_LATER_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "network_error"}

TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_REVIEW: {S.APPROVED, S.REJECTED, S.CANCELLED},
    S.APPROVED: {S.TRANSFERRING, S.PAID, S.REJECTED},
    S.TRANSFERRING: {S.WAIT_USER_CONFIRM, S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED},
    S.WAIT_USER_CONFIRM: {S.TRANSFERRING, S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED},
    S.PAID: set(),
    S.FAILED: set(),
    S.REJECTED: set(),
    S.CANCELLED: set(),
    S.EXPIRED: set(),
}

# WeChat bill state → our status (CANCELING: wait for the query to say CANCELLED).
_STATE_TO_STATUS = {
    "ACCEPTED": S.TRANSFERRING,
    "PROCESSING": S.TRANSFERRING,
    "TRANSFERING": S.TRANSFERRING,
    "WAIT_USER_CONFIRM": S.WAIT_USER_CONFIRM,
    "SUCCESS": S.PAID,
    "FAIL": S.FAILED,
}

_RETURN_REASONS = {
    S.REJECTED: gettext_lazy("提现被驳回，金额已退回可提现余额"),
    S.CANCELLED: gettext_lazy("提现已撤销，金额已退回可提现余额"),
    S.FAILED: gettext_lazy("转账失败，金额已退回可提现余额"),
    S.EXPIRED: gettext_lazy("24 小时内未确认收款，金额已退回可提现余额"),
}


# ---- helpers ---------------------------------------------------------------------------------------


def payout_methods() -> list[str]:
    """Methods a member can choose here: WeChat when WeChat Pay is configured, the sandbox in
    development/demo, and a manual bank transfer always."""
    from core.wechat import wechatpay_configured

    methods: list[str] = []
    if wechatpay_configured():
        methods.append(PayoutMethod.WECHAT)
    if settings.PAYMENTS_SANDBOX_ENABLED:
        methods.append(PayoutMethod.SANDBOX)
    methods.append(PayoutMethod.BANK)
    return methods


def transfer_notify_url() -> str:
    return getattr(settings, "WECHATPAY_TRANSFER_NOTIFY_URL", "") or (
        settings.SITE_URL + reverse("payments:transfer_notify")
    )


def _new_out_bill_no() -> str:
    # Digits and letters only, 5–32 characters (WeChat's rule for out_bill_no).
    return "W" + timezone.localtime().strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def _lock(pk: int) -> Withdrawal | None:
    return Withdrawal.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def _require_finance(operator) -> None:
    if not is_money_operator(operator):
        raise ApplicationError("permission_denied", _("只有财务人员可以处理提现"), status_code=403)


def _today_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _clean(value, max_length: int) -> str:
    return (value or "").strip()[:max_length] if isinstance(value, str) else ""


# Outcomes the member must hear about: money arrived, money came back, or they must act (confirm the
# receipt in WeChat). Apps above payments (members) register a listener; payments never imports them.
MEMBER_OUTCOMES = (S.WAIT_USER_CONFIRM, S.PAID, S.FAILED, S.REJECTED, S.EXPIRED)
_outcome_listeners: list[Callable[[Withdrawal, WithdrawalEvent], object]] = []


def on_outcome(listener: Callable[[Withdrawal, WithdrawalEvent], object]) -> None:
    """Run `listener(withdrawal, event)` in the transaction that moves a withdrawal to a MEMBER_OUTCOME.

    It runs once per move (the move itself happens once, under the withdrawal's row lock)."""
    if listener not in _outcome_listeners:
        _outcome_listeners.append(listener)


def withdrawal_transition(
    *, withdrawal: Withdrawal, to: str, reason: str, actor=None, **details
) -> WithdrawalEvent:
    """Move a LOCKED withdrawal to `to` (refusing illegal moves), post its money and write the event.

    Returned (rejected/cancelled/failed/expired): withdrawing → available (owed money repaid first).
    Paid: withdrawing → payout_clearing. Other fields set on the instance are saved with it."""
    if to not in TRANSITIONS.get(withdrawal.status, set()):
        raise ApplicationError(
            "illegal_transition",
            _("提现当前状态不允许此操作"),
            status_code=409,
            extra={"from": withdrawal.status, "to": to},
        )
    event = WithdrawalEvent.record(
        withdrawal=withdrawal,
        from_status=withdrawal.status,
        to_status=to,
        reason=reason[:64],
        actor=actor,
        details=details,
    )
    now = timezone.now()
    withdrawal.status = to
    if to == S.PAID:
        withdrawal.paid_at = withdrawal.paid_at or now
        withdrawal.finished_at = now
        ledger.post_payout(withdrawal=withdrawal)
    elif to in Withdrawal.RETURNED:
        withdrawal.finished_at = now
        ledger.post_payout_return(withdrawal=withdrawal, reason=str(_RETURN_REASONS[to]))
    withdrawal.save()
    if to in MEMBER_OUTCOMES:
        for listener in list(_outcome_listeners):
            listener(withdrawal, event)
    return event


# ---- the member's side ---------------------------------------------------------------------------------


def withdrawal_request(
    *,
    user,
    amount_fen: int,
    method: str,
    real_name: str = "",
    bank_name: str = "",
    bank_account: str = "",
    request_id: str = "",
) -> Withdrawal:
    """Request a withdrawal: amount within the operator's limits, ≤ available, nothing owed, within the
    daily count. The amount moves available → withdrawing at once. A repeated `request_id` returns the
    first request. Concurrent requests of one member are serialised by the lock on their accounts."""
    amount = ledger._amount(amount_fen)
    conf = WithdrawalSettings.current()
    if method not in payout_methods():
        raise ApplicationError(
            "payout_method_unavailable", _("不支持的提现方式"), fields={"method": [_("不支持的提现方式")]}
        )
    if amount < conf.min_amount_fen:
        raise ApplicationError(
            "below_minimum",
            _("单笔最低提现 %(min)s") % {"min": fen_to_yuan_text(conf.min_amount_fen, always_decimals=True)},
            fields={"amount_fen": [_("低于最低提现金额")]},
            extra={"min_amount_fen": conf.min_amount_fen},
        )
    if amount > conf.max_amount_fen:
        raise ApplicationError(
            "above_maximum",
            _("单笔最高提现 %(max)s") % {"max": fen_to_yuan_text(conf.max_amount_fen, always_decimals=True)},
            fields={"amount_fen": [_("超过单笔最高提现金额")]},
            extra={"max_amount_fen": conf.max_amount_fen},
        )
    real_name = _clean(real_name, 64)
    bank_name = _clean(bank_name, 64)
    bank_account = re.sub(r"\s+", "", _clean(bank_account, 40))
    request_id = _clean(request_id, 64)
    payee_openid = payee_appid = ""
    if method == PayoutMethod.BANK:
        missing = {
            name: [_("必填")]
            for name, value in (
                ("real_name", real_name),
                ("bank_name", bank_name),
                ("bank_account", bank_account),
            )
            if not value
        }
        if missing:
            raise ApplicationError(
                "bank_details_required", _("银行卡提现需填写姓名、开户行和卡号"), fields=missing
            )
        if not re.fullmatch(r"\d{12,30}", bank_account):
            raise ApplicationError(
                "invalid_bank_account",
                _("银行卡号应为 12–30 位数字"),
                fields={"bank_account": [_("卡号格式不正确")]},
            )
    else:
        bank_name = bank_account = ""
        if amount >= REAL_NAME_FROM_FEN and not real_name:
            raise ApplicationError(
                "real_name_required",
                _("单笔提现满 2000 元需填写与微信实名一致的姓名"),
                fields={"real_name": [_("必填")]},
            )
        if amount < REAL_NAME_FROM_FEN:
            real_name = ""  # not needed below ¥2,000: do not collect personal data we do not use
        if method == PayoutMethod.WECHAT:
            from payments.models import Channel
            from payments.orders.payment_attempts import payer_openid_for

            payee_openid = payer_openid_for(user=user, channel=Channel.WECHAT_MINIPROGRAM)
            payee_appid = settings.WECHAT_MINIPROGRAM_APPID
            if not payee_openid:
                raise ApplicationError("openid_required", _("请先在小程序中登录，再提现到微信零钱"))
    with transaction.atomic():
        accounts = ledger._member_accounts(user.pk)
        if request_id:
            existing = Withdrawal.objects.filter(user_id=user.pk, request_id=request_id).first()
            if existing is not None:
                return existing
        receivable = accounts[AccountKind.RECEIVABLE].balance_fen
        if receivable < 0:
            raise ApplicationError(
                "withdrawal_blocked_owed",
                _("你有 %(owed)s 的退款追回欠款，结清前不能提现") % {"owed": fen_to_yuan_text(-receivable)},
                status_code=409,
                extra={"owed_fen": -receivable},
            )
        available = accounts[AccountKind.EARNINGS_AVAILABLE].balance_fen
        if amount > available:
            raise ApplicationError(
                "insufficient_balance",
                _("可提现余额不足（可提现 %(available)s）") % {"available": fen_to_yuan_text(available)},
                fields={"amount_fen": [_("超过可提现余额")]},
                extra={"available_fen": available},
            )
        now = timezone.now()
        today = (
            Withdrawal.objects.filter(user_id=user.pk, created_at__gte=_today_start(now))
            .exclude(status=S.CANCELLED)
            .count()
        )
        if today >= conf.daily_count_limit:
            raise ApplicationError(
                "daily_limit_reached",
                _("每天最多提现 %(n)s 次，请明天再来") % {"n": conf.daily_count_limit},
                status_code=409,
            )
        withdrawal = Withdrawal.objects.create(
            user_id=user.pk,
            amount_fen=amount,
            method=method,
            request_id=request_id,
            out_bill_no=_new_out_bill_no(),
            payee_openid=payee_openid,
            payee_appid=payee_appid,
            real_name=real_name,
            bank_name=bank_name,
            bank_account=bank_account,
            needs_second_approval=amount >= conf.dual_approval_threshold_fen,
        )
        WithdrawalEvent.objects.create(
            withdrawal=withdrawal, from_status="", to_status=S.PENDING_REVIEW, reason="requested", actor=user
        )
        ledger.post_withdraw(withdrawal=withdrawal, accounts=accounts)
    return withdrawal


def withdrawal_cancel(*, withdrawal: Withdrawal, user) -> Withdrawal:
    """The member withdraws their own request while it still waits for review (money returned)."""
    with transaction.atomic():
        locked = _lock(withdrawal.pk)
        if locked is None or locked.user_id != getattr(user, "pk", None):
            raise ApplicationError("not_found", _("提现记录不存在"), status_code=404)
        if locked.status != S.PENDING_REVIEW:
            raise ApplicationError("cannot_cancel", _("提现已进入审核或打款，无法撤销"), status_code=409)
        withdrawal_transition(withdrawal=locked, to=S.CANCELLED, reason="cancelled_by_member", actor=user)
    return locked


# ---- the operator's side (finance role; every action leaves an audit row) ---------------------------


def _enqueue_submit(withdrawal_id: int) -> None:
    from payments import ledger_tasks

    try:
        ledger_tasks.withdrawal_submit.delay(withdrawal_id)
    except Exception:  # noqa: BLE001 - broker unavailable: the sweep submits approved withdrawals
        logger.exception("could not enqueue withdrawal_submit(%s)", withdrawal_id)


def withdrawal_approve(*, withdrawal: Withdrawal, operator) -> Withdrawal:
    """Approve (finance). From the dual-approval threshold a second, different operator must approve
    too. Once approved, a WeChat/sandbox withdrawal is submitted after commit; a bank one waits for
    an operator to record the transfer."""
    _require_finance(operator)
    with transaction.atomic():
        locked = _lock(withdrawal.pk)
        if locked is None:
            raise ApplicationError("not_found", _("提现记录不存在"), status_code=404)
        if locked.user_id == operator.pk:
            raise ApplicationError("own_withdrawal", _("不能审核自己的提现"), status_code=403)
        if locked.status != S.PENDING_REVIEW:
            raise ApplicationError(
                "already_reviewed",
                _("该提现已审核过（%(s)s）") % {"s": locked.get_status_display()},
                status_code=409,
            )
        now = timezone.now()
        if locked.first_approved_by_id is None:
            locked.first_approved_by, locked.first_approved_at = operator, now
            if locked.needs_second_approval:
                locked.save(update_fields=["first_approved_by", "first_approved_at", "updated_at"])
                WithdrawalEvent.objects.create(
                    withdrawal=locked,
                    from_status=locked.status,
                    to_status=locked.status,
                    reason="first_approval",
                    actor=operator,
                )
                audit_record(
                    actor=operator,
                    action="withdrawal_first_approval",
                    target=locked,
                    summary=f"提现初审通过 {fen_to_yuan_text(locked.amount_fen)}，待第二位财务复核",
                    amount_fen=locked.amount_fen,
                )
                return locked
        elif locked.first_approved_by_id == operator.pk:
            raise ApplicationError(
                "second_approver_required", _("该笔提现需由另一位财务人员复核"), status_code=409
            )
        else:
            locked.second_approved_by, locked.second_approved_at = operator, now
        withdrawal_transition(withdrawal=locked, to=S.APPROVED, reason="approved", actor=operator)
        audit_record(
            actor=operator,
            action="withdrawal_approve",
            target=locked,
            summary=f"提现审核通过 {fen_to_yuan_text(locked.amount_fen)} {locked.get_method_display()}",
            amount_fen=locked.amount_fen,
            method=locked.method,
        )
        if locked.method in TRANSFER_METHODS:
            pk = locked.pk
            transaction.on_commit(lambda: _enqueue_submit(pk))
    return locked


def withdrawal_reject(*, withdrawal: Withdrawal, operator, reason: str) -> Withdrawal:
    """Reject before any money left (pending review, or approved but not yet sent): money returned."""
    _require_finance(operator)
    reason = _clean(reason, 200)
    if not reason:
        raise ApplicationError("reason_required", _("请填写驳回原因"), fields={"reason": [_("必填")]})
    with transaction.atomic():
        locked = _lock(withdrawal.pk)
        if locked is None:
            raise ApplicationError("not_found", _("提现记录不存在"), status_code=404)
        if locked.status not in (S.PENDING_REVIEW, S.APPROVED):
            raise ApplicationError("already_reviewed", _("该提现已在打款流程中，不能驳回"), status_code=409)
        locked.reviewed_by, locked.reject_reason = operator, reason
        withdrawal_transition(
            withdrawal=locked, to=S.REJECTED, reason="rejected", actor=operator, note=reason
        )
        audit_record(
            actor=operator,
            action="withdrawal_reject",
            target=locked,
            summary=f"驳回提现 {fen_to_yuan_text(locked.amount_fen)}：{reason}",
            amount_fen=locked.amount_fen,
            reason=reason,
        )
    return locked


def withdrawal_mark_paid(*, withdrawal: Withdrawal, operator, bank_reference: str) -> Withdrawal:
    """Record a manual bank transfer an operator made for an approved bank withdrawal."""
    _require_finance(operator)
    bank_reference = _clean(bank_reference, 128)
    if not bank_reference:
        raise ApplicationError(
            "reference_required", _("请填写银行打款流水号"), fields={"bank_reference": [_("必填")]}
        )
    with transaction.atomic():
        locked = _lock(withdrawal.pk)
        if locked is None:
            raise ApplicationError("not_found", _("提现记录不存在"), status_code=404)
        if locked.method != PayoutMethod.BANK:
            raise ApplicationError(
                "not_bank_withdrawal", _("只有银行卡提现可以手工标记打款"), status_code=409
            )
        if locked.status != S.APPROVED:
            raise ApplicationError(
                "not_approved",
                _("提现需先审核通过才能标记打款（当前：%(s)s）") % {"s": locked.get_status_display()},
                status_code=409,
            )
        locked.bank_reference = bank_reference
        withdrawal_transition(
            withdrawal=locked,
            to=S.PAID,
            reason="bank_transfer_recorded",
            actor=operator,
            reference=bank_reference,
        )
        audit_record(
            actor=operator,
            action="withdrawal_mark_paid",
            target=locked,
            summary=f"银行卡打款 {fen_to_yuan_text(locked.amount_fen)} 流水 {bank_reference}",
            amount_fen=locked.amount_fen,
            bank_reference=bank_reference,
        )
    return locked


# ---- WeChat 商家转账 ----------------------------------------------------------------------------------


def _transfer_request(withdrawal: Withdrawal) -> TransferRequest:
    conf = WithdrawalSettings.current()
    return TransferRequest(
        out_bill_no=withdrawal.out_bill_no,
        amount_fen=withdrawal.amount_fen,
        openid=withdrawal.payee_openid
        or ("o_sandbox_payee" if withdrawal.method == PayoutMethod.SANDBOX else ""),
        appid=withdrawal.payee_appid,
        remark=conf.transfer_remark,
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
        locked = _lock(withdrawal_id)
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
        locked = _lock(withdrawal_id)
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
        locked = _lock(withdrawal_id)
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
            target = S.EXPIRED if expired else S.CANCELLED
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
    *, withdrawal: Withdrawal, operator=None, expiring: bool = False
) -> Withdrawal | None:
    """Cancel a bill the member has not confirmed (operator action, or the 24-hour expiry sweep with
    `expiring=True`). The money returns only once WeChat says CANCELLED."""
    if operator is not None:
        _require_finance(operator)
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


def transfer_notification_handle(*, body: bytes, meta: dict, remote_addr: str = ""):
    """Verify, store, deduplicate and act on one MCHTRANSFER.BILL.FINISHED notification."""
    from django.db import IntegrityError

    from payments.gateways.wechatpay import transfer_state_from
    from payments.orders.notifications import NotifyResult, notification_receive
    from payments.orders.notifications import notification_finish as _finish

    note, verified, answer = notification_receive(body=body, meta=meta, remote_addr=remote_addr)
    if answer is not None:
        return answer
    resource = verified.resource
    out_bill_no = str(resource.get("out_bill_no", ""))
    withdrawal = Withdrawal.objects.filter(out_bill_no=out_bill_no).first()

    if not verified.event_type.startswith("MCHTRANSFER."):
        _finish(note, PaymentNotification.Outcome.PROCESSED, "ignored event type")
        return NotifyResult(204)
    if withdrawal is None:
        _finish(note, PaymentNotification.Outcome.ERROR, f"unknown out_bill_no {out_bill_no}")
        return NotifyResult(404, "FAIL", _("找不到对应的提现"))
    state = transfer_state_from(resource, out_bill_no=out_bill_no)
    if state.amount_fen != withdrawal.amount_fen:
        logger.error("ALERT transfer notification amount mismatch: %s %s", out_bill_no, state.amount_fen)
        _finish(
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
        _finish(note, PaymentNotification.Outcome.DUPLICATE)
        return NotifyResult(200)
    except Exception as exc:  # noqa: BLE001 - record, answer 5xx so WeChat retries
        logger.exception("transfer notification %s failed", verified.id)
        _finish(note, PaymentNotification.Outcome.ERROR, f"{type(exc).__name__}: {exc}")
        return NotifyResult(500, "FAIL", _("处理失败"))
    return NotifyResult(204)
