"""Wallet pages (/payments/wallet/): balances, earnings with their orders, withdrawals and the
confirm-receipt step; plus WeChat's 商家转账 notify endpoint (csrf-exempt, signature-verified)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from core.ip import client_ip
from payments.gateways.base import GatewayError
from payments.gateways.sandbox import sandbox_finish_transfer
from payments.models import PayoutMethod, Withdrawal
from payments.wallet import selectors, withdrawal_payouts, withdrawals
from payments.wallet.forms import WithdrawalRequestForm

# What each step of a withdrawal means to the member (WithdrawalEvent.reason → text).
EVENT_REASONS = {
    "requested": gettext_lazy("提交申请，金额转入提现中"),
    "first_approval": gettext_lazy("财务初审通过，等待复核"),
    "approved": pgettext_lazy("status", "审核通过"),  # "approved", not the admin button "approve"
    "submitted": gettext_lazy("已提交微信转账"),
    "transfer_state": gettext_lazy("微信已受理"),
    "transfer_query": gettext_lazy("已向微信确认状态"),
    "transfer_notification": gettext_lazy("微信通知转账结果"),
    "transfer_refused": gettext_lazy("微信拒绝了这笔转账"),
    "transfer_cancel": gettext_lazy("转账已撤销"),
    "transfer_expired": gettext_lazy("24 小时内未确认收款，已撤销"),
    "rejected": gettext_lazy("提现被驳回"),
    "cancelled_by_member": gettext_lazy("你撤销了提现"),
    "bank_transfer_recorded": gettext_lazy("财务已通过银行卡打款"),
}


@login_required
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    summary = selectors.wallet_summary(request.user)
    earnings = Paginator(selectors.earnings_for_user(request.user), 20).get_page(request.GET.get("page"))
    recent = list(selectors.withdrawals_for_user(request.user)[:10])
    labels = dict(PayoutMethod.choices)
    context = {
        "summary": summary,
        "balances": summary.balances,
        "earnings": earnings,
        "withdrawals": recent,
        "methods": [(m, labels[m]) for m in summary.methods],
        "request_id": secrets.token_hex(12),  # a double submit of the form is one request
    }
    return render(request, "payments/wallet.html", context)


@login_required
@require_POST
def wallet_withdraw(request: HttpRequest) -> HttpResponse:
    form = WithdrawalRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("payments:wallet")
    data = form.cleaned_data
    try:
        withdrawal = withdrawals.withdrawal_request(
            user=request.user,
            amount_fen=data["amount_yuan"],
            method=data["method"],
            real_name=data["real_name"],
            bank_name=data["bank_name"],
            bank_account=data["bank_account"],
            request_id=data["request_id"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("payments:wallet")
    messages.success(request, _("提现申请已提交，等待财务审核"))
    return redirect("payments:withdrawal_detail", withdrawal.pk)


@login_required
@require_GET
def withdrawal_detail(request: HttpRequest, withdrawal_id: int) -> HttpResponse:
    withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
    context = {
        "withdrawal": withdrawal,
        "events": [
            {
                "at": event.created_at,
                "status": Withdrawal.Status(event.to_status).label
                if event.to_status in Withdrawal.Status.values
                else "",
                "note": EVENT_REASONS.get(event.reason, ""),
            }
            for event in withdrawal.events.all()
        ],
        "awaiting_confirmation": withdrawal.status == Withdrawal.Status.WAIT_USER_CONFIRM,
        "is_sandbox": withdrawal.method == PayoutMethod.SANDBOX,
        "can_cancel": withdrawal.status == Withdrawal.Status.PENDING_REVIEW,
    }
    return render(request, "payments/withdrawal_detail.html", context)


@login_required
@require_POST
def withdrawal_cancel(request: HttpRequest, withdrawal_id: int) -> HttpResponse:
    withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
    try:
        withdrawals.withdrawal_cancel(withdrawal=withdrawal, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销，金额已退回可提现余额"))
    return redirect("payments:withdrawal_detail", withdrawal.pk)


@login_required
@require_POST
def withdrawal_confirm(request: HttpRequest, withdrawal_id: int) -> HttpResponse:
    """Confirm receipt. Sandbox: this page plays WeChat's confirm screen (signed notification to the
    real notify view). WeChat: the member confirmed in the mini-program; ask WeChat for the result."""
    withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
    if withdrawal.status != Withdrawal.Status.WAIT_USER_CONFIRM:
        messages.error(request, _("该提现当前无需确认收款"))
        return redirect("payments:withdrawal_detail", withdrawal.pk)
    if withdrawal.method == PayoutMethod.SANDBOX:
        try:
            status = sandbox_finish_transfer(withdrawal.out_bill_no)
        except GatewayError as exc:
            messages.error(request, exc.message or exc.code)
            return redirect("payments:withdrawal_detail", withdrawal.pk)
        if status >= 300:
            messages.error(request, _("到账通知处理失败（%(s)s），请稍后刷新") % {"s": status})
    else:
        withdrawal_payouts.withdrawal_sync(withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    if withdrawal.status == Withdrawal.Status.PAID:
        messages.success(request, _("已到账，请在微信零钱中查看"))
    return redirect("payments:withdrawal_detail", withdrawal.pk)


@csrf_exempt
@require_POST
def transfer_notify(request: HttpRequest) -> HttpResponse:
    """WeChat's MCHTRANSFER.BILL.FINISHED notifications (the notify_url of every transfer bill)."""
    result = withdrawal_payouts.transfer_notification_handle(
        body=request.body, meta=request.META, remote_addr=client_ip(request)
    )
    if result.status < 300:
        return HttpResponse(status=result.status)
    return JsonResponse({"code": "FAIL", "message": result.message}, status=result.status)
