"""Admin for orders, payments, refunds, notifications and reconciliation.

Money records are read-only here; the only write is the refund (full or partial), which goes
through `payments.services.refund_request` and leaves an audit record.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ApplicationError
from core.money import MoneyError, fen_to_yuan_text, yuan_to_fen
from payments import services
from payments.models import (
    Order,
    OrderEvent,
    Payment,
    PaymentNotification,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
)


class ReadOnlyAdminMixin:
    """Money records are never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ["created_at", "from_status", "to_status", "reason", "actor", "details"]
    readonly_fields = fields


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = [
        "out_trade_no",
        "channel",
        "status",
        "amount_fen",
        "transaction_id",
        "paid_at",
        "needs_auto_refund",
    ]
    readonly_fields = fields


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = [
        "out_refund_no",
        "kind",
        "status",
        "amount_fen",
        "reason",
        "requested_by",
        "created_at",
        "last_error",
    ]
    readonly_fields = fields


class RefundForm(forms.Form):
    amount_yuan = forms.CharField(
        label=_("退款金额（元）"), required=False, help_text=_("留空为退还全部可退金额")
    )
    reason = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order

    def clean_amount_yuan(self):
        raw = (self.cleaned_data.get("amount_yuan") or "").strip()
        if not raw:
            return None
        try:
            amount = yuan_to_fen(raw)
        except MoneyError:
            raise forms.ValidationError(_("请输入正确的金额，最多两位小数")) from None
        if amount <= 0 or amount > self.order.refundable_fen:
            raise forms.ValidationError(
                _("金额须大于0且不超过可退金额 %(max)s")
                % {"max": fen_to_yuan_text(self.order.refundable_fen)}
            )
        return amount


def _refund(request, order: Order, amount_fen: int | None, reason: str) -> Refund:
    refund = services.refund_request(
        order=order, amount_fen=amount_fen, reason=reason, requested_by=request.user, self_service=False
    )
    audit_record(
        actor=request.user,
        action="order_refund",
        target=order,
        summary=f"退款 {fen_to_yuan_text(refund.amount_fen)} {order.order_no}",
        out_refund_no=refund.out_refund_no,
        amount_fen=refund.amount_fen,
        reason=reason,
    )
    return refund


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order_no",
        "user",
        "title",
        "amount_display",
        "refunded_display",
        "status",
        "channel",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "channel", "item_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = [
        "order_no",
        "payments__out_trade_no",
        "payments__transaction_id",
        "user__username",
        "user__nickname",
        "refunds__out_refund_no",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = [
        "order_no",
        "user",
        "item_type",
        "item_id",
        "title",
        "list_price_fen",
        "discount_fen",
        "amount_fen",
        "refunded_fen",
        "status",
        "channel",
        "platform",
        "referral_code",
        "referrer",
        "context",
        "lines",
        "created_at",
        "paid_at",
        "expires_at",
        "closed_at",
        "refund_link",
    ]
    inlines = [PaymentInline, RefundInline, OrderEventInline]
    actions = ["refund_full"]

    @admin.display(description=_("金额"), ordering="amount_fen")
    def amount_display(self, obj):
        return fen_to_yuan_text(obj.amount_fen, always_decimals=True)

    @admin.display(description=_("已退款"), ordering="refunded_fen")
    def refunded_display(self, obj):
        return fen_to_yuan_text(obj.refunded_fen, always_decimals=True) if obj.refunded_fen else "-"

    @admin.display(description=_("退款"))
    def refund_link(self, obj):
        if obj.pk and obj.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            return format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:payments_order_refund", args=[obj.pk]),
                _("全额或部分退款"),
            )
        return "-"

    def _can_refund(self, request) -> bool:
        return request.user.has_perm("payments.change_order") or request.user.is_superuser

    @admin.action(description=_("全额退款所选订单"))
    def refund_full(self, request, queryset):
        if not self._can_refund(request):
            raise PermissionDenied
        done = 0
        for order in queryset:
            try:
                _refund(request, order, None, str(_("运营全额退款")))
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{order.order_no}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("已提交 %(n)s 笔退款") % {"n": done}, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_order_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, pk: int):
        if not self._can_refund(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=pk)
        form = RefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                refund = _refund(
                    request, order, form.cleaned_data["amount_yuan"], form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("已提交退款 %(amount)s（%(no)s）")
                    % {"amount": fen_to_yuan_text(refund.amount_fen), "no": refund.out_refund_no},
                    messages.SUCCESS,
                )
                return redirect("admin:payments_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("订单退款"),
            "order": order,
            "form": form,
            "opts": self.model._meta,
            "refundable": fen_to_yuan_text(order.refundable_fen, always_decimals=True),
        }
        return render(request, "payments/admin_refund.html", context)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "out_trade_no",
        "order",
        "channel",
        "status",
        "amount_fen",
        "transaction_id",
        "paid_at",
        "created_at",
    ]
    list_filter = ["status", "channel", "needs_auto_refund"]
    search_fields = ["out_trade_no", "transaction_id", "order__order_no"]
    list_select_related = ["order"]
    readonly_fields = [f.name for f in Payment._meta.fields]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "out_refund_no",
        "order",
        "kind",
        "status",
        "amount_fen",
        "requested_by",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["out_refund_no", "refund_id", "order__order_no"]
    list_select_related = ["order", "requested_by"]
    readonly_fields = [f.name for f in Refund._meta.fields]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "event_type",
        "outcome",
        "verified",
        "out_trade_no",
        "out_refund_no",
        "short_error",
    ]
    list_filter = ["outcome", "verified", "event_type"]
    search_fields = ["claimed_id", "out_trade_no", "out_refund_no"]
    readonly_fields = [f.name for f in PaymentNotification._meta.fields]

    @admin.display(description=_("错误"))
    def short_error(self, obj):
        return (obj.error or "")[:80]


class MismatchInline(admin.TabularInline):
    model = ReconciliationMismatch
    extra = 0
    fields = [
        "kind",
        "out_trade_no",
        "transaction_id",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
        "resolved",
    ]
    readonly_fields = [
        "kind",
        "out_trade_no",
        "transaction_id",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
    ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = ["bill_date", "status", "bill_rows", "matched_rows", "mismatch_count", "updated_at"]
    list_filter = ["status"]
    readonly_fields = [
        "bill_date",
        "status",
        "bill_rows",
        "matched_rows",
        "mismatch_count",
        "error",
        "created_at",
        "updated_at",
    ]
    inlines = [MismatchInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationMismatch)
class ReconciliationMismatchAdmin(admin.ModelAdmin):
    """Operators mark mismatches resolved once investigated; the facts themselves are read-only."""

    list_display = [
        "run",
        "kind",
        "out_trade_no",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
        "resolved",
    ]
    list_filter = ["kind", "resolved", "run__bill_date"]
    list_editable = ["resolved"]
    search_fields = ["out_trade_no", "transaction_id"]
    readonly_fields = [
        "run",
        "kind",
        "out_trade_no",
        "transaction_id",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
