"""Admin of withdrawals: the withdrawal queue, the withdrawal settings, and the sandbox's transfer bills.

The writes are the withdrawal actions — approve, reject, record a bank transfer, sync/cancel a WeChat
transfer — which call payments.wallet.withdrawal_approval and payments.wallet.withdrawal_payouts
(each leaves an audit row), and the withdrawal settings (audited here). All of them follow one rule,
`core.roles.is_money_operator` (the 财务 group, which `manage.py setup_roles` alone grants the matching
model permissions): the services check it, and so does every admin action (`permissions=["money"]`,
`core.admin_tools.MoneyActionsMixin`), button and page here — people outside finance never see a way
to move money.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin_tools import (
    AuditedChangesMixin,
    FactRecordAdminMixin,
    MoneyActionsMixin,
    label_column,
    label_filter,
    mask_identifier,
    yuan_column,
    yuan_display,
)
from core.crypto import mask_name
from core.errors import ApplicationError
from core.roles import is_money_operator
from payments.models import SandboxTransfer, Withdrawal, WithdrawalEvent, WithdrawalSettings
from payments.models.withdrawals import TRANSFER_STATE_LABELS
from payments.wallet import ledger, withdrawal_approval, withdrawal_payouts

if TYPE_CHECKING:  # generic in django-stubs only: Django's admin classes are not subscriptable at runtime
    from django_stubs_ext import StrOrPromise

    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline


class WithdrawalEventInline(FactRecordAdminMixin, TabularInline):
    model = WithdrawalEvent
    extra = 0
    fields = ("created_at", "from_display", "to_display", "reason_display", "actor", "details")
    readonly_fields = fields

    from_display = label_column("from_status", dict(Withdrawal.Status.choices), description=_("原状态"))
    to_display = label_column("to_status", dict(Withdrawal.Status.choices), description=_("新状态"))

    @admin.display(description=_("原因"))
    def reason_display(self, obj: WithdrawalEvent) -> str:
        return obj.reason_label


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("驳回原因（会员可见）"), max_length=200)


class MarkPaidForm(forms.Form):
    bank_reference = forms.CharField(label=_("银行打款流水号"), max_length=128)


@admin.register(Withdrawal)
class WithdrawalAdmin(MoneyActionsMixin, FactRecordAdminMixin, ModelAdmin):
    """The withdrawal queue: finance approves (two people above the threshold), rejects, records bank
    transfers, and can ask WeChat for a transfer's state or cancel an unconfirmed one."""

    list_display = [
        "id",
        "created_at",
        "user",
        "amount_display",
        "method",
        "status",
        "approval_display",
        "payee_name",
        "transfer_state_display",
    ]
    list_filter = ["status", "method", "needs_second_approval", ("created_at", admin.DateFieldListFilter)]
    search_fields = [
        "out_bill_no",
        "transfer_bill_no",
        "user__username",
        "user__nickname",
        "user__member_no",
        "=user__id",
    ]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["approve_selected", "sync_selected", "cancel_unconfirmed_selected"]
    inlines = [WithdrawalEventInline]
    readonly_fields = (
        "user",
        "amount_display",
        "method",
        "status",
        "out_bill_no",
        "transfer_bill_no",
        "transfer_state_display",
        "payee_name",
        "bank_name",
        "masked_bank_account",
        "masked_payee_openid",
        "bank_reference",
        "needs_second_approval",
        "first_approved_by",
        "first_approved_at",
        "second_approved_by",
        "second_approved_at",
        "reviewed_by",
        "reject_reason",
        "fail_reason",
        "attempts",
        "last_error",
        "submitted_at",
        "confirm_deadline",
        "paid_at",
        "finished_at",
        "created_at",
        "member_balances",
        "operations",
    )
    fields = readonly_fields

    # ---- display ------------------------------------------------------------------------------------
    amount_display = yuan_column()
    transfer_state_display = label_column(
        "transfer_state", TRANSFER_STATE_LABELS, description=_("微信转账状态")
    )

    @admin.display(description=_("审核"))
    def approval_display(self, obj: Withdrawal) -> str:
        needed = 2 if obj.needs_second_approval else 1
        return f"{obj.approvals}/{needed}"

    @admin.display(description=_("收款人姓名"))
    def payee_name(self, obj: Withdrawal) -> str:
        return mask_name(obj.real_name) or "-"

    @admin.display(description=_("收款 openid"))
    def masked_payee_openid(self, obj: Withdrawal) -> str:
        return mask_identifier(obj.payee_openid)

    @admin.display(description=_("银行卡号"))
    def masked_bank_account(self, obj: Withdrawal) -> str:
        account = obj.bank_account or ""
        return f"{account[:4]} **** **** {account[-4:]}" if len(account) >= 8 else "-"

    @admin.display(description=_("会员余额"))
    def member_balances(self, obj: Withdrawal) -> str:
        b = ledger.balances(obj.user)
        return format_html(
            str(_("{}：{} · {}：{} · {}：{} · {}：{} · {}：{}")),
            _("冻结中"),
            yuan_display(b.pending_fen),
            _("可提现"),
            yuan_display(b.available_fen),
            _("提现中"),
            yuan_display(b.withdrawing_fen),
            _("已提现"),
            yuan_display(b.withdrawn_fen),
            _("欠款"),
            yuan_display(b.owed_fen),
        )

    @admin.display(description=_("操作"))
    def operations(self, obj: Withdrawal) -> str:
        if not obj.pk:
            return "-"
        links = []
        if obj.status == Withdrawal.Status.PENDING_REVIEW:
            links.append((reverse("admin:payments_withdrawal_approve", args=[obj.pk]), _("审核通过")))
        if obj.status in (Withdrawal.Status.PENDING_REVIEW, Withdrawal.Status.APPROVED):
            links.append((reverse("admin:payments_withdrawal_reject", args=[obj.pk]), _("驳回")))
        if obj.method == "bank" and obj.status == Withdrawal.Status.APPROVED:
            links.append((reverse("admin:payments_withdrawal_mark_paid", args=[obj.pk]), _("标记已打款")))
        if not links:
            return "-"
        return format_html(
            " ".join('<a class="button" href="{}">{}</a>' for _link in links),
            *[part for link in links for part in link],
        )

    # ---- permissions and actions -----------------------------------------------------------------------
    def get_fields(self, request: HttpRequest, obj: Withdrawal | None = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if not self.has_money_permission(request):
            fields.remove("operations")  # no approve / reject / mark-paid buttons for non-finance
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Withdrawal | None = None) -> list[Any]:
        return self.get_fields(request, obj)

    def _finance_or_403(self, request: HttpRequest) -> None:
        if not self.has_money_permission(request):
            raise PermissionDenied

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Withdrawal],
        call: Callable[[Withdrawal], object],
        done_message: StrOrPromise,
    ) -> None:
        self._finance_or_403(request)
        done = 0
        for withdrawal in queryset:
            try:
                call(withdrawal)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{withdrawal.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("审核通过所选提现"), permissions=["money"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        self._run(
            request,
            queryset,
            lambda w: withdrawal_approval.withdrawal_approve(withdrawal=w, operator=request.user),
            _("已审核 %(n)s 笔提现（达到双人审核金额的需另一位财务复核）"),
        )

    @admin.action(description=_("向微信查询所选转账状态"), permissions=["money"])
    def sync_selected(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        self._run(
            request,
            queryset,
            lambda w: withdrawal_payouts.withdrawal_sync(withdrawal=w),
            _("已同步 %(n)s 笔提现"),
        )

    @admin.action(description=_("撤销所选未确认收款的转账（金额退回）"), permissions=["money"])
    def cancel_unconfirmed_selected(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        self._run(
            request,
            queryset,
            lambda w: withdrawal_payouts.withdrawal_cancel_transfer(withdrawal=w, operator=request.user),
            _("已提交撤销 %(n)s 笔转账"),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="payments_withdrawal_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="payments_withdrawal_reject"),
            path("<int:pk>/mark-paid/", view(self.mark_paid_view), name="payments_withdrawal_mark_paid"),
            *super().get_urls(),
        ]

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._finance_or_403(request)
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        if request.method == "POST":
            try:
                result = withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                if result.status == Withdrawal.Status.APPROVED:
                    self.message_user(request, pgettext_lazy("status", "审核通过"), messages.SUCCESS)
                else:
                    self.message_user(request, _("初审通过，待另一位财务复核"), messages.SUCCESS)
            return redirect("admin:payments_withdrawal_change", pk)
        return self._form_page(request, withdrawal, None, _("审核通过提现"), _("确认审核通过"))

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._finance_or_403(request)
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        # Bound on every POST, even an empty one, so a missing field is shown as an error (never a
        # silent redisplay) and nothing changes until the form is valid.
        form = RejectForm(request.POST) if request.method == "POST" else RejectForm()
        if request.method == "POST" and form.is_valid():
            try:
                withdrawal_approval.withdrawal_reject(
                    withdrawal=withdrawal, operator=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("已驳回，金额已退回会员可提现余额"), messages.SUCCESS)
                return redirect("admin:payments_withdrawal_change", pk)
        return self._form_page(request, withdrawal, form, _("驳回提现"), _("确认驳回"))

    def mark_paid_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._finance_or_403(request)
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        form = (
            MarkPaidForm(request.POST) if request.method == "POST" else MarkPaidForm()
        )  # bound on every POST
        if request.method == "POST" and form.is_valid():
            try:
                withdrawal_approval.withdrawal_mark_paid(
                    withdrawal=withdrawal,
                    operator=request.user,
                    bank_reference=form.cleaned_data["bank_reference"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("已记录银行打款"), messages.SUCCESS)
                return redirect("admin:payments_withdrawal_change", pk)
        return self._form_page(request, withdrawal, form, _("记录银行卡打款"), _("确认已打款"))

    def _form_page(
        self,
        request: HttpRequest,
        withdrawal: Withdrawal,
        form: forms.Form | None,
        title: StrOrPromise,
        submit: StrOrPromise,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "submit_label": submit,
            "withdrawal": withdrawal,
            "form": form,
            "opts": self.model._meta,
            "balances": ledger.balances(withdrawal.user),
            "payee_name": mask_name(withdrawal.real_name),
        }
        return render(request, "payments/admin_withdrawal_action.html", context)


@admin.register(WithdrawalSettings)
class WithdrawalSettingsAdmin(AuditedChangesMixin, ModelAdmin):
    """Limits, the dual-approval threshold and the transfer scene: finance edits them, audited."""

    list_display = [
        "__str__",
        "min_amount_fen",
        "max_amount_fen",
        "daily_count_limit",
        "dual_approval_threshold_fen",
        "transfer_scene_id",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_money_operator(request.user) and not WithdrawalSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: WithdrawalSettings | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WithdrawalSettings | None = None) -> bool:
        return is_money_operator(request.user)


@admin.register(SandboxTransfer)
class SandboxTransferAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = ["out_bill_no", "state_display", "amount_display", "created_at", "updated_at"]
    list_filter = [label_filter("state", TRANSFER_STATE_LABELS, title=_("转账状态"))]
    search_fields = ["out_bill_no", "transfer_bill_no"]
    date_hierarchy = "created_at"
    fields = (
        "out_bill_no",
        "transfer_bill_no",
        "state_display",
        "amount_display",
        "masked_openid",
        "fail_reason",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    state_display = label_column("state", TRANSFER_STATE_LABELS, description=_("转账状态"))
    amount_display = yuan_column()

    @admin.display(description=_("微信 OpenID"))
    def masked_openid(self, obj: SandboxTransfer) -> str:
        return mask_identifier(obj.openid)
