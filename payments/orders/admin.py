"""Admin for orders, payments, refunds, notifications and reconciliation.

Money records are read-only here; the only write is the refund (full or partial), which goes
through `payments.refund_request` and leaves an audit record. Who may refund is the money
rule `core.roles.is_money_operator` (财务): the action, the change-page button and the refund page all
ask `has_money_permission` (`core.admin_tools.MoneyActionsMixin`), so people who may not refund never
see the way to.
"""

from __future__ import annotations

import json
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

from core.admin_tools import (
    AuditedChangesMixin,
    FactRecordAdminMixin,
    MoneyActionsMixin,
    admin_link,
    label_column,
    mask_identifier,
    yuan_column,
    yuan_display,
)
from core.audit import audit_record
from core.errors import ApplicationError
from core.money import MoneyError, fen_to_yuan_text, yuan_to_fen
from core.roles import is_money_operator
from payments import items
from payments.admin_labels import ItemTypeFilter, item_type_column
from payments.models import (
    Order,
    OrderEvent,
    Payment,
    PaymentNotification,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
)
from payments.orders.refunds import refund_request

if TYPE_CHECKING:  # generic in django-stubs only: Django's admin classes are not subscriptable at runtime
    from django_stubs_ext import StrOrPromise

    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline


def _mask_openids(value: Any) -> Any:
    """A copy of a JSON value with every openid masked (notification resources carry the payer's)."""
    if isinstance(value, dict):
        return {
            k: (mask_identifier(v) if "openid" in k.lower() and isinstance(v, str) else _mask_openids(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_openids(v) for v in value]
    return value


class OrderEventInline(FactRecordAdminMixin, TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("created_at", "from_display", "to_display", "reason_display", "actor", "details")
    readonly_fields = fields

    from_display = label_column("from_status", dict(Order.Status.choices), description=_("原状态"))
    to_display = label_column("to_status", dict(Order.Status.choices), description=_("新状态"))

    @admin.display(description=_("原因"))
    def reason_display(self, obj: OrderEvent) -> str:
        return obj.reason_label


class PaymentInline(FactRecordAdminMixin, TabularInline):
    model = Payment
    extra = 0
    fields = (
        "out_trade_no",
        "channel",
        "status",
        "amount_display",
        "transaction_id",
        "paid_at",
        "needs_auto_refund",
    )
    readonly_fields = fields
    show_change_link = True

    amount_display = yuan_column(sortable=False)


class RefundInline(FactRecordAdminMixin, TabularInline):
    model = Refund
    extra = 0
    fields = (
        "out_refund_no",
        "kind",
        "status",
        "amount_display",
        "reason",
        "requested_by",
        "created_at",
        "last_error",
    )
    readonly_fields = fields
    show_change_link = True

    amount_display = yuan_column(sortable=False)


class RefundForm(forms.Form):
    amount_yuan = forms.CharField(
        label=_("退款金额（元）"), required=False, help_text=_("留空为退还全部可退金额")
    )
    reason = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order

    def clean_amount_yuan(self) -> int | None:
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


def _refund(request: HttpRequest, order: Order, amount_fen: int | None, reason: str) -> Refund:
    refund = refund_request(
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


class HasRefundFilter(admin.SimpleListFilter):
    title = _("退款")
    parameter_name = "refunded"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("有退款")), ("no", _("无退款"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return queryset.filter(refunded_fen__gt=0)
        if self.value() == "no":
            return queryset.filter(refunded_fen=0)
        return queryset


@admin.register(Order)
class OrderAdmin(MoneyActionsMixin, FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "order_no",
        "user",
        "title",
        item_type_column,
        "amount_display",
        "refunded_display",
        "status",
        "channel",
        "referrer",
        "created_at",
        "paid_at",
    ]
    list_filter = [
        "status",
        "channel",
        ItemTypeFilter,
        HasRefundFilter,
        "platform",
        ("paid_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "order_no",
        "payments__out_trade_no",
        "payments__transaction_id",
        "user__username",
        "user__nickname",
        "user__member_no",
        "refunds__out_refund_no",
        "referral_code",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["user", "referrer"]
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
        "sales_rep",
        "context",
        "lines",
        "created_at",
        "paid_at",
        "auto_refund_due_at",
        "auto_refund_reason",
        "expires_at",
        "closed_at",
        "refund_link",
    ]
    inlines = [PaymentInline, RefundInline, OrderEventInline]
    actions = ["refund_full"]

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_money_permission(request):
            fields.remove("refund_link")  # no button for people who may not refund
        return fields

    amount_display = yuan_column()

    @admin.display(description=_("已退款"), ordering="refunded_fen")
    def refunded_display(self, obj: Order) -> str:
        return yuan_display(obj.refunded_fen) if obj.refunded_fen else "-"

    @admin.display(description=_("退款"))
    def refund_link(self, obj: Order) -> str:
        if obj.pk and obj.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            return format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:payments_order_refund", args=[obj.pk]),
                _("全额或部分退款"),
            )
        return "-"

    @admin.action(description=_("全额退款所选订单"), permissions=["money"])
    def refund_full(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        if not self.has_money_permission(request):
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

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_order_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_money_permission(request):
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
            # What a full refund means along the order's funding chains (refusals first).
            "refund_terms": items.refund_terms(order=order, amount_fen=order.refundable_fen)
            if order.refundable_fen
            else [],
        }
        return render(request, "payments/admin_refund.html", context)


@admin.register(Payment)
class PaymentAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "out_trade_no",
        "order",
        "channel",
        "status",
        "amount_display",
        "transaction_id",
        "needs_auto_refund",
        "paid_at",
        "created_at",
    ]
    list_filter = ["status", "channel", "needs_auto_refund", ("paid_at", admin.DateFieldListFilter)]
    search_fields = ["out_trade_no", "transaction_id", "order__order_no", "=payer_openid"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    fields = (
        "order",
        "channel",
        "out_trade_no",
        "transaction_id",
        "amount_display",
        "status",
        "payer",
        "needs_auto_refund",
        "error",
        "paid_at",
        "queried_at",
        "query_count",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    amount_display = yuan_column()

    @admin.display(description=_("付款人 openid"))
    def payer(self, obj: Payment) -> str:
        return mask_identifier(obj.payer_openid)


@admin.register(Refund)
class RefundAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "out_refund_no",
        "order",
        "kind",
        "status",
        "amount_display",
        "reason",
        "requested_by",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "kind", ("completed_at", admin.DateFieldListFilter)]
    search_fields = ["out_refund_no", "refund_id", "order__order_no", "order__user__username", "reason"]
    list_select_related = ["order", "requested_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Refund._meta.fields]

    amount_display = yuan_column()


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(FactRecordAdminMixin, ModelAdmin):
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
    date_hierarchy = "received_at"
    fields = (
        "received_at",
        "processed_at",
        "notification_id",
        "claimed_id",
        "event_type",
        "verified",
        "outcome",
        "error",
        "out_trade_no",
        "out_refund_no",
        "remote_addr",
        "resource_masked",
    )
    readonly_fields = fields

    @admin.display(description=_("错误"))
    def short_error(self, obj: PaymentNotification) -> str:
        return (obj.error or "")[:80]

    @admin.display(description=_("通知内容（openid 已脱敏）"))
    def resource_masked(self, obj: PaymentNotification) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(_mask_openids(obj.resource), ensure_ascii=False, indent=2)
        )


class MismatchInline(FactRecordAdminMixin, TabularInline):
    """Read-only here: marking a mismatch resolved is done on its own page (audited)."""

    model = ReconciliationMismatch
    extra = 0
    fields = (
        "kind",
        "out_trade_no",
        "transaction_id",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
        "resolved",
    )
    readonly_fields = fields
    show_change_link = True


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = ["bill_date", "status", "bill_rows", "matched_rows", "mismatch_count", "updated_at"]
    list_filter = ["status"]
    date_hierarchy = "bill_date"
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


@admin.register(ReconciliationMismatch)
class ReconciliationMismatchAdmin(AuditedChangesMixin, ModelAdmin):
    """Finance marks mismatches resolved once investigated (audited); the facts themselves are read-only."""

    audit_action_prefix = "reconciliation_mismatch"
    list_display = [
        "run",
        "kind",
        "out_trade_no",
        "order_link",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
        "resolved",
    ]
    list_filter = ["kind", "resolved", ("run__bill_date", admin.DateFieldListFilter)]
    list_editable = ["resolved"]
    list_select_related = ["run"]
    search_fields = ["out_trade_no", "transaction_id"]
    readonly_fields = [
        "run",
        "kind",
        "out_trade_no",
        "order_link",
        "transaction_id",
        "bill_amount_fen",
        "local_amount_fen",
        "detail",
    ]

    @admin.display(description=_("订单"))
    def order_link(self, obj: ReconciliationMismatch) -> str:
        payment = (
            Payment.objects.select_related("order").filter(out_trade_no=obj.out_trade_no).first()
            if obj.out_trade_no
            else None
        )
        return admin_link(payment.order, payment.order.order_no) if payment else "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReconciliationMismatch | None = None) -> bool:
        return is_money_operator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ReconciliationMismatch | None = None) -> bool:
        return False
