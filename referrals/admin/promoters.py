"""Admin: promoter levels with their promoter prices, and promoters (level, block, upline, sales)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin
from payments.admin_labels import item_type_choice_field
from referrals import (
    attribution,
    promoters,
)
from referrals.admin.programme import ComplianceWarningsMixin
from referrals.models import (
    Promoter,
    PromoterLevel,
    PromoterPrice,
    ReferralBinding,
)


class PromoterPriceInline(admin.TabularInline):
    model = PromoterPrice
    extra = 0
    fields = ("item_type", "item_id", "price_fen", "applies_to")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        return item_type_choice_field(field) if db_field.name == "item_type" else field


@admin.register(PromoterLevel)
class PromoterLevelAdmin(AuditedChangesMixin, ComplianceWarningsMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "rank",
        "commission_rate_bp",
        "is_default",
        "auto_min_sales_fen",
        "auto_min_orders",
        "grant_tier",
        "promoters",
    )
    ordering = ("rank",)
    inlines = [PromoterPriceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(promoter_count=Count("promoters"))

    @admin.display(description=_("人数"), ordering="promoter_count")
    def promoters(self, obj):
        return obj.promoter_count


class ReferredInline(admin.TabularInline):
    model = ReferralBinding
    fk_name = "referrer"
    verbose_name = _("直接邀请的人")
    verbose_name_plural = _("直接邀请的人")
    extra = 0
    fields = ("user", "bound_at", "expires_at", "source", "channel", "ended_at")
    readonly_fields = fields
    can_delete = False
    max_num = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ended_at__isnull=True).select_related("user")


@admin.register(Promoter)
class PromoterAdmin(admin.ModelAdmin):
    list_display = ("user", "level", "level_source", "is_blocked", "invited", "created_at")
    list_filter = ("level", "level_source", "is_blocked")
    search_fields = ("user__username", "user__nickname", "user__member_no", "user__referral_code")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fields = (
        "user",
        "level",
        "level_source",
        "level_changed_at",
        "is_blocked",
        "blocked_reason",
        "upline",
        "sales",
    )
    readonly_fields = ("level_source", "level_changed_at", "upline", "sales")
    actions = ["block", "unblock"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "level")
            .annotate(
                invited_count=Count(
                    "user__referred_bindings", filter=Q(user__referred_bindings__ended_at__isnull=True)
                )
            )
        )

    @admin.display(description=_("直接邀请"), ordering="invited_count")
    def invited(self, obj):
        return obj.invited_count

    @admin.display(description=_("上级链"))
    def upline(self, obj):
        if not obj.pk:
            return "—"
        ids = attribution.upline_ids(obj.user_id)
        return " → ".join(f"#{pk}" for pk in ids) or _("（无推荐人）")

    @admin.display(description=_("推广成交（实收/单数）"))
    def sales(self, obj):
        if not obj.pk:
            return "—"
        total, orders = promoters.promoter_sales(obj.user)
        return f"{total / 100:.2f} / {orders}"

    def save_model(self, request, obj, form, change):
        """Level and block changes go through their services (audited); nothing else is editable."""
        level, blocked, reason = obj.level, obj.is_blocked, obj.blocked_reason
        if not change:
            obj.level, obj.is_blocked, obj.blocked_reason = None, False, ""
            super().save_model(request, obj, form, change)
        if "level" in form.changed_data:
            promoters.promoter_set_level(user=obj.user, level=level, actor=request.user, reason="admin")
        if "is_blocked" in form.changed_data or "blocked_reason" in form.changed_data:
            promoters.promoter_block(user=obj.user, blocked=blocked, actor=request.user, reason=reason)
        obj.refresh_from_db()

    @admin.action(description=_("停止推广资格"), permissions=["change"])
    def block(self, request, queryset):
        for promoter in queryset:
            promoters.promoter_block(user=promoter.user, blocked=True, actor=request.user, reason="admin")

    @admin.action(description=_("恢复推广资格"), permissions=["change"])
    def unblock(self, request, queryset):
        for promoter in queryset:
            promoters.promoter_block(user=promoter.user, blocked=False, actor=request.user, reason="admin")
