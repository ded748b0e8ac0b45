"""Admin: commission rules (audited edits, compliance warnings) and commissions by state (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, yuan_display
from payments.admin_labels import ItemTypeFilter, item_type_choice_field, item_type_column
from payments.models import Earning
from referrals.admin.programme import ComplianceWarningsMixin
from referrals.models import (
    Commission,
    CommissionRule,
    ReferralSettings,
)


@admin.register(CommissionRule)
class CommissionRuleAdmin(AuditedChangesMixin, ComplianceWarningsMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        item_type_column,
        "item_id",
        "promoter_level",
        "level",
        "rate_bp",
        "reward_kind",
        "is_active",
        "updated_at",
    )
    list_filter = (ItemTypeFilter, "level", "reward_kind", "is_active", "promoter_level")
    list_editable = ("rate_bp", "is_active")
    search_fields = ("item_type", "item_id", "note")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "item_type":
            field = item_type_choice_field(field)
        return field

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.level == 2:
            if ReferralSettings.current().commission_depth < 2:
                self.message_user(request, _("二级规则已保存，但二级分佣未开启，不会生效。"), messages.INFO)
            else:
                self.message_user(
                    request, _("二级分佣存在合规风险，请确认已获得法律意见。"), messages.WARNING
                )


class LedgerStateFilter(admin.SimpleListFilter):
    title = _("账户状态")
    parameter_name = "ledger"

    def lookups(self, request, model_admin):

        return Earning.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(earning__status=self.value())
        return queryset


@admin.register(Commission)
class CommissionAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "order",
        "level",
        "beneficiary",
        "buyer",
        item_type_column,
        "base_display",
        "rate_bp",
        "amount_display",
        "reversed_display",
        "reward_kind",
        "status",
        "ledger_state",
        "hold_until",
    )
    list_filter = ("status", LedgerStateFilter, "level", "reward_kind", ItemTypeFilter, "skip_reason")
    search_fields = ("order__order_no", "beneficiary__username", "beneficiary__nickname", "buyer__username")
    date_hierarchy = "created_at"
    list_select_related = ("order", "beneficiary", "buyer", "earning")

    @admin.display(description=_("账户状态"))
    def ledger_state(self, obj):
        return obj.earning.get_status_display() if obj.earning_id else "—"

    @admin.display(description=_("计佣基数"), ordering="base_fen")
    def base_display(self, obj):
        return yuan_display(obj.base_fen)

    @admin.display(description=_("佣金"), ordering="amount_fen")
    def amount_display(self, obj):
        return yuan_display(obj.amount_fen)

    @admin.display(description=_("已冲回"), ordering="reversed_fen")
    def reversed_display(self, obj):
        return yuan_display(obj.reversed_fen) if obj.reversed_fen else "-"
