"""payments.wallet.withdrawal_approval: finance reviews a withdrawal — approve (two people from the
dual-approval threshold), reject, or record the manual bank transfer of an approved bank withdrawal.

Only money operators (`core.roles.is_money_operator`) may act, never on their own withdrawal, and
every action leaves an audit row. An approved WeChat/sandbox withdrawal is handed to
payments.wallet.withdrawal_payouts after commit (the Celery task `payments.tasks.withdrawal_submit`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from payments.models import PayoutMethod, Withdrawal, WithdrawalEvent
from payments.wallet import tasks
from payments.wallet.withdrawals import (
    TRANSFER_METHODS,
    clean_text,
    lock_withdrawal,
    require_money_operator,
    withdrawal_transition,
)

logger = logging.getLogger(__name__)

S = Withdrawal.Status


def _enqueue_submit(withdrawal_id: int) -> None:
    try:
        tasks.withdrawal_submit.delay(withdrawal_id)
    except Exception:  # noqa: BLE001 - broker unavailable: the sweep submits approved withdrawals
        logger.exception("could not enqueue withdrawal_submit(%s)", withdrawal_id)


def withdrawal_approve(*, withdrawal: Withdrawal, operator: Any) -> Withdrawal:
    """Approve (finance). From the dual-approval threshold a second, different operator must approve
    too. Once approved, a WeChat/sandbox withdrawal is submitted after commit; a bank one waits for
    an operator to record the transfer."""
    require_money_operator(operator)
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal.pk)
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


def withdrawal_reject(*, withdrawal: Withdrawal, operator: Any, reason: str) -> Withdrawal:
    """Reject before any money left (pending review, or approved but not yet sent): money returned."""
    require_money_operator(operator)
    reason = clean_text(reason, 200)
    if not reason:
        raise ApplicationError("reason_required", _("请填写驳回原因"), fields={"reason": [_("必填")]})
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal.pk)
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


def withdrawal_mark_paid(*, withdrawal: Withdrawal, operator: Any, bank_reference: str) -> Withdrawal:
    """Record a manual bank transfer an operator made for an approved bank withdrawal."""
    require_money_operator(operator)
    bank_reference = clean_text(bank_reference, 128)
    if not bank_reference:
        raise ApplicationError(
            "reference_required", _("请填写银行打款流水号"), fields={"bank_reference": [_("必填")]}
        )
    with transaction.atomic():
        locked = lock_withdrawal(withdrawal.pk)
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
