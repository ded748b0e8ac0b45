"""payments.wallet.withdrawals: a member's withdrawal — the request, the member's cancel, and the one
table of legal moves every withdrawal module goes through.

Members withdraw available earnings; finance approves (payments.wallet.withdrawal_approval); WeChat
pays by 商家转账, the member confirming receipt in the mini-program (payments.wallet.withdrawal_payouts),
or an operator records a manual bank transfer.

State machine (one table, one WithdrawalEvent per move); the money moves in the same database
transaction as the state change, through payments.wallet.ledger:

    pending_review ─approve→ approved ─submit→ transferring ⇄ wait_user_confirm ─→ paid
          │                     │                    │                │
          └→ rejected/cancelled └→ paid (bank)        └→ failed / cancelled / expired (money returned)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from core.roles import is_money_operator
from core.wechat import wechatpay_configured
from payments.models import (
    AccountKind,
    Channel,
    PayoutMethod,
    Withdrawal,
    WithdrawalEvent,
    WithdrawalSettings,
)
from payments.orders.payment_attempts import payer_openid_for
from payments.wallet import ledger

S = Withdrawal.Status
REAL_NAME_FROM_FEN = 200_000  # WeChat: the payee's real name is required from ¥2,000
TRANSFER_METHODS = (PayoutMethod.WECHAT, PayoutMethod.SANDBOX)

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

_RETURN_REASONS: dict[str, Promise] = {
    S.REJECTED: gettext_lazy("提现被驳回，金额已退回可提现余额"),
    S.CANCELLED: gettext_lazy("提现已撤销，金额已退回可提现余额"),
    S.FAILED: gettext_lazy("转账失败，金额已退回可提现余额"),
    S.EXPIRED: gettext_lazy("24 小时内未确认收款，金额已退回可提现余额"),
}


# ---- helpers ---------------------------------------------------------------------------------------


def payout_methods() -> list[str]:
    """Methods a member can choose here: WeChat when WeChat Pay is configured, the sandbox in
    development/demo, and a manual bank transfer always."""
    methods: list[str] = []
    if wechatpay_configured():
        methods.append(PayoutMethod.WECHAT)
    if settings.PAYMENTS_SANDBOX_ENABLED:
        methods.append(PayoutMethod.SANDBOX)
    methods.append(PayoutMethod.BANK)
    return methods


def _new_out_bill_no() -> str:
    # Digits and letters only, 5–32 characters (WeChat's rule for out_bill_no).
    return "W" + timezone.localtime().strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def lock_withdrawal(pk: int) -> Withdrawal | None:
    """The withdrawal, locked for update (the business row is locked before the member's accounts)."""
    return Withdrawal.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def require_money_operator(operator: Any) -> None:
    """Refuse anyone outside finance (`core.roles.is_money_operator`) a money action on a withdrawal."""
    if not is_money_operator(operator):
        raise ApplicationError("permission_denied", _("只有财务人员可以处理提现"), status_code=403)


def local_day_start(now: datetime) -> datetime:
    """Midnight of `now`'s day in the site's time zone: the daily withdrawal count starts there."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def clean_text(value: Any, max_length: int) -> str:
    """A form value stripped and cut to the column's length; anything not a string is empty."""
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
    *, withdrawal: Withdrawal, to: str, reason: str, actor: Any = None, **details: Any
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
    event: WithdrawalEvent = WithdrawalEvent.record(
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
    user: Any,
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
    amount = ledger.valid_amount_fen(amount_fen)
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
    real_name = clean_text(real_name, 64)
    bank_name = clean_text(bank_name, 64)
    bank_account = re.sub(r"\s+", "", clean_text(bank_account, 40))
    request_id = clean_text(request_id, 64)
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
            payee_openid = payer_openid_for(user=user, channel=Channel.WECHAT_MINIPROGRAM)
            payee_appid = settings.WECHAT_MINIPROGRAM_APPID
            if not payee_openid:
                raise ApplicationError("openid_required", _("请先在小程序中登录，再提现到微信零钱"))
    with transaction.atomic():
        accounts = ledger.lock_accounts_of_member(user.pk)
        if request_id:
            existing = Withdrawal.objects.filter(user_id=user.pk, request_id=request_id).first()
            if existing is not None:
                return existing
        receivable = ledger.member_balance(accounts[AccountKind.RECEIVABLE])
        if receivable < 0:
            raise ApplicationError(
                "withdrawal_blocked_owed",
                _("你有 %(owed)s 的退款追回欠款，结清前不能提现") % {"owed": fen_to_yuan_text(-receivable)},
                status_code=409,
                extra={"owed_fen": -receivable},
            )
        available = ledger.member_balance(accounts[AccountKind.EARNINGS_AVAILABLE])
        if amount > available:
            raise ApplicationError(
                "insufficient_balance",
                _("可提现余额不足（可提现 %(available)s）") % {"available": fen_to_yuan_text(available)},
                fields={"amount_fen": [_("超过可提现余额")]},
                extra={"available_fen": available},
            )
        now = timezone.now()
        today = (
            Withdrawal.objects.filter(user_id=user.pk, created_at__gte=local_day_start(now))
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


def withdrawal_cancel(*, withdrawal: Withdrawal, user: Any) -> Withdrawal:
    """The member withdraws their own request while it still waits for review (money returned)."""
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal.pk)
        if locked is None or locked.user_id != getattr(user, "pk", None):
            raise ApplicationError("not_found", _("提现记录不存在"), status_code=404)
        if locked.status != S.PENDING_REVIEW:
            raise ApplicationError("cannot_cancel", _("提现已进入审核或打款，无法撤销"), status_code=409)
        withdrawal_transition(withdrawal=locked, to=S.CANCELLED, reason="cancelled_by_member", actor=user)
    return locked
