"""Admin of the ledger: accounts, transactions with their entries, earnings, settlement runs and
ledger checks.

All of it is read-only (entries are append-only in the database too). The one write is the "run the
ledger check now" button, offered to money operators only (`core.roles.is_money_operator`). The
withdrawal queue and its settings are in payments.wallet.admin_withdrawals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin, label_column, label_filter, yuan_column, yuan_display
from core.roles import is_money_operator
from payments.models import Account, Earning, Entry, LedgerCheckRun, SettlementRun, Transaction
from payments.wallet.ledger_check import ledger_check_record

if TYPE_CHECKING:  # generic in django-stubs only: Django's admin classes are not subscriptable at runtime
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline


@admin.register(Account)
class AccountAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = ["id", "owner", "kind", "balance_display", "updated_at"]
    list_filter = ["kind", ("user", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__nickname", "user__member_no", "=user__id"]
    list_select_related = ["user"]
    readonly_fields = ("user", "kind", "balance_display", "created_at", "updated_at")
    fields = readonly_fields

    @admin.display(description=_("所属"))
    def owner(self, obj: Account) -> object:
        return obj.user if obj.user_id else _("平台（系统科目）")

    @admin.display(description=_("余额"), ordering="balance_fen")
    def balance_display(self, obj: Account) -> str:
        if obj.is_system:  # not cached (no hot row): summed from its entries on display
            total = obj.entries.aggregate(total=Sum("amount_fen"))["total"] or 0
            return yuan_display(total)
        return yuan_display(obj.balance_fen)


class EntryInline(FactRecordAdminMixin, TabularInline):
    model = Entry
    extra = 0
    fields = ("account", "amount_display")
    readonly_fields = fields

    @admin.display(description=_("金额"))
    def amount_display(self, obj: Entry) -> str:
        return _("%(amount)s 分") % {"amount": f"{obj.amount_fen:+,d}"}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account", "account__user")


@admin.register(Transaction)
class TransactionAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = ["id", "created_at", "kind", "user", "reference", "description", "idempotency_key"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["idempotency_key", "reference", "user__username", "user__nickname", "=user__id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "idempotency_key", "user", "reference", "description", "created_at")
    fields = readonly_fields
    inlines = [EntryInline]


@admin.register(Earning)
class EarningAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "user",
        "source_display",
        "amount_display",
        "reversed_display",
        "status",
        "hold_until",
        "order",
        "settled_run",
        "created_at",
    ]
    list_filter = [
        "status",
        label_filter("source", dict(Earning.Source.choices), title=_("来源")),
        ("hold_until", admin.DateFieldListFilter),
    ]
    search_fields = [
        "user__username",
        "user__nickname",
        "user__member_no",
        "=user__id",
        "order__order_no",
        "idempotency_key",
    ]
    list_select_related = ["user", "order"]
    date_hierarchy = "created_at"
    readonly_fields = ["source_display" if f.name == "source" else f.name for f in Earning._meta.fields]
    fields = tuple(readonly_fields)

    amount_display = yuan_column()
    source_display = label_column("source", dict(Earning.Source.choices), description=_("来源"))

    @admin.display(description=_("已冲回"), ordering="reversed_fen")
    def reversed_display(self, obj: Earning) -> str:
        return yuan_display(obj.reversed_fen) if obj.reversed_fen else "-"


@admin.register(SettlementRun)
class SettlementRunAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "started_at",
        "status",
        "earnings_count",
        "members_count",
        "amount_display",
        "repaid_display",
        "batches",
        "max_batch_ms",
        "finished_at",
    ]
    list_filter = ["status"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SettlementRun._meta.fields]

    amount_display = yuan_column(description=_("结算金额"), sortable=False)

    @admin.display(description=_("偿还欠款"))
    def repaid_display(self, obj: SettlementRun) -> str:
        return yuan_display(obj.repaid_fen)


@admin.register(LedgerCheckRun)
class LedgerCheckRunAdmin(FactRecordAdminMixin, ModelAdmin):
    list_display = [
        "created_at",
        "result",
        "trigger",
        "transactions_checked",
        "entries_checked",
        "accounts_checked",
        "problem_count",
        "first_problem",
        "duration_ms",
    ]
    list_filter = ["ok", "trigger"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LedgerCheckRun._meta.fields]
    change_list_template = "admin/payments/ledgercheckrun/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_run_check": is_money_operator(request.user)}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("结果"), boolean=False, ordering="ok")
    def result(self, obj: LedgerCheckRun) -> str:
        if obj.ok:
            return format_html('<span style="color:#137333">✔ {}</span>', _("平衡"))
        return format_html('<strong style="color:#d93026">✘ {}</strong>', _("有差异"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="payments_ledgercheckrun_run"),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:payments_ledgercheckrun_changelist")
        if not is_money_operator(request.user):
            raise PermissionDenied
        run = ledger_check_record(trigger=LedgerCheckRun.Trigger.ADMIN)
        if run.ok:
            self.message_user(
                request,
                _("账本平衡：%(t)s 笔交易，%(a)s 个账户")
                % {"t": run.transactions_checked, "a": run.accounts_checked},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("账本检查发现 %(n)s 处差异：%(p)s") % {"n": run.problem_count, "p": run.first_problem},
                messages.ERROR,
            )
        return redirect("admin:payments_ledgercheckrun_changelist")
