"""Admin: group-buy offers (audited edits) and groups with their seats; the sweep action moves money,
so it is a money action (`core.roles.is_money_operator`)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, MoneyActionsMixin
from core.audit import audit_record
from payments.admin_labels import ItemTypeFilter, item_type_column
from referrals import (
    group_buys,
)
from referrals.models import (
    GroupBuy,
    GroupBuyMember,
    GroupBuyOffer,
)


@admin.register(GroupBuyOffer)
class GroupBuyOfferAdmin(AuditedChangesMixin, admin.ModelAdmin):
    list_display = (
        "title",
        item_type_column,
        "item_id",
        "group_size",
        "group_price_fen",
        "time_limit_hours",
        "is_active",
        "starts_at",
        "ends_at",
    )
    list_filter = ("is_active", ItemTypeFilter)
    search_fields = ("title",)


class GroupBuyMemberInline(FactRecordAdminMixin, admin.TabularInline):
    model = GroupBuyMember
    extra = 0
    fields = (
        "user",
        "is_initiator",
        "status",
        "order",
        "paid_at",
        "granted_order",
        "needs_refund",
        "grant_error",
    )
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(GroupBuy)
class GroupBuyAdmin(MoneyActionsMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("id", "offer", "initiator", "status", "paid_count", "size", "expires_at", "succeeded_at")
    list_filter = ("status", "offer")
    search_fields = ("initiator__username", "initiator__nickname", "members__user__nickname", "offer__title")
    date_hierarchy = "created_at"
    inlines = [GroupBuyMemberInline]
    actions = ["run_sweep"]
    list_select_related = ("offer", "initiator")

    @admin.action(description=_("立即处理到期拼团（退款、补发）"), permissions=["money"])
    def run_sweep(self, request, queryset):
        """Runs the scheduled sweep now (it refunds the paid members of failed groups): finance only."""
        counts = group_buys.group_buys_expire()
        if any(counts.values()):
            audit_record(
                actor=request.user,
                action="referrals.group_buys_expire",
                target=queryset.first(),
                summary=f"手动处理到期拼团 {counts}",
                **counts,
            )
        self.message_user(request, str(counts))
