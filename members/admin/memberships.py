"""Operator screens for tiers (every edit audited) and memberships, which change only through grants:
orders, an operator's grant or extension with a reason, refunds and an operator's revocation."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from members.admin.common import ExpiryFilter, OperatorActionsMixin, RepScopedMixin, TierFilter, action_page
from members.cache_versions import shown_facts_bump
from members.memberships import selectors
from members.memberships.grants import membership_grant_manual, membership_revoke_manual
from members.models import Membership, MembershipGrant, MembershipReminder, MembershipTier


class GrantForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("会员等级"), queryset=MembershipTier.objects.order_by("rank"))
    days = forms.IntegerField(label=_("天数"), min_value=1, max_value=3660, initial=365)
    reason = forms.CharField(label=_("原因"), max_length=200, help_text=_("如：线下转账、活动赠送、补偿"))


def grant_membership_action(admin_obj, request, users):
    """Grant or extend the selected users' memberships: a form first (tier, days, reason), then the
    service for each user (it records the operator and the reason and writes the audit row)."""
    form = GrantForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for user in users:
            try:
                membership_grant_manual(
                    user=user,
                    tier=form.cleaned_data["tier"],
                    days=form.cleaned_data["days"],
                    operator=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                admin_obj.message_user(request, f"{user}: {exc.message}", messages.ERROR)
            else:
                done += 1
        admin_obj.message_user(request, _("已为 %(n)s 位用户开通/延长会员") % {"n": done}, messages.SUCCESS)
        return None
    return action_page(
        admin_obj,
        request,
        title=_("开通/延长会员"),
        form=form,
        objects=users,
        description=_(
            "同等级顺延；更高等级从今天起升级（原会员剩余天数不折抵）；更低等级按价格折算为当前等级天数。"
        ),
    )


@admin.register(MembershipTier)
class MembershipTierAdmin(AuditedChangesMixin, admin.ModelAdmin):
    """Prices, durations and discounts of the tiers: every edit is in the audit log."""

    list_display = (
        "code",
        "name",
        "price_fen",
        "duration_days",
        "rank",
        "single_purchase_discount_bp",
        "member_no_prefix",
        "is_active",
    )
    list_editable = ("is_active",)
    ordering = ("rank",)
    fields = (
        "code",
        "name",
        "price_fen",
        "duration_days",
        "rank",
        "benefits",
        "single_purchase_discount_bp",
        "member_no_prefix",
        "is_active",
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        shown_facts_bump()  # tier codes, names, ranks and discounts show on cached pages and decide access

    def get_readonly_fields(self, request, obj=None):
        # Codes are item ids of past orders; changing one would orphan them.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


GRANT_INLINE_FIELDS: tuple[str, ...] = (
    "created_at",
    "kind",
    "source",
    "tier",
    "days",
    "value_fen",
    "credit_fen",
    "order",
    "ends_after",
    "operator",
    "reason",
    "revoked_at",
)


class GrantInline(FactRecordAdminMixin, admin.TabularInline):
    model = MembershipGrant
    fk_name = "membership"
    extra = 0
    fields = GRANT_INLINE_FIELDS
    readonly_fields = GRANT_INLINE_FIELDS


REMINDER_INLINE_FIELDS: tuple[str, ...] = ("kind", "ends_at", "sent_at")


class ReminderInline(FactRecordAdminMixin, admin.TabularInline):
    model = MembershipReminder
    extra = 0
    fields = REMINDER_INLINE_FIELDS
    readonly_fields = REMINDER_INLINE_FIELDS


@admin.register(Membership)
class MembershipAdmin(OperatorActionsMixin, RepScopedMixin, admin.ModelAdmin):
    """Memberships change only through grants (orders, operators' grants with a reason, refunds)."""

    list_display = ("user", "member_no", "tier", "starts_at", "ends_at", "days_left")
    list_filter = (TierFilter, ExpiryFilter)
    list_select_related = ("user", "tier")
    search_fields = ("user__username", "user__nickname", "user__member_no")
    date_hierarchy = "ends_at"
    readonly_fields = ("user", "tier", "starts_at", "ends_at")
    inlines = [GrantInline, ReminderInline]
    actions = ["extend_memberships"]

    def has_add_permission(self, request):
        return False  # use the "开通/延长会员" action: it records who and why

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("延长/升级所选会员（需填写原因）"), permissions=["operator"])
    def extend_memberships(self, request, queryset):
        return grant_membership_action(self, request, [m.user for m in queryset.select_related("user")])

    @admin.display(description=_("会员编号"), ordering="user__member_no")
    def member_no(self, obj: Membership) -> str:
        return obj.user.member_no or "-"

    @admin.display(description=_("剩余天数"))
    def days_left(self, obj: Membership) -> int:
        return selectors.days_left(obj)


@admin.register(MembershipGrant)
class MembershipGrantAdmin(OperatorActionsMixin, RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "kind",
        "source",
        "tier",
        "days",
        "value_display",
        "order",
        "operator",
        "reason",
        "revoked_at",
    )
    list_filter = ("kind", "source", "tier", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user", "tier", "order", "operator")
    search_fields = ("user__username", "user__member_no", "order__order_no", "reason")
    date_hierarchy = "created_at"
    actions = ["revoke_grants"]

    @admin.display(description=_("价值"), ordering="value_fen")
    def value_display(self, obj):
        return fen_to_yuan_text(obj.value_fen, always_decimals=True) if obj.value_fen else "-"

    @admin.action(description=_("撤销所选运营赠送（订单开通的请退款）"), permissions=["operator"])
    def revoke_grants(self, request, queryset):
        reason = str(_("运营撤销"))
        done = 0
        for grant in queryset.filter(order__isnull=True, revoked_at__isnull=True):
            try:
                membership_revoke_manual(grant=grant, operator=request.user, reason=reason)
            except ApplicationError as exc:
                self.message_user(request, f"#{grant.pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        skipped = queryset.count() - done
        self.message_user(request, _("已撤销 %(n)s 条") % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request, _("%(n)s 条未撤销（订单开通的请退款，或已撤销）") % {"n": skipped}, messages.WARNING
            )
