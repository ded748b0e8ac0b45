"""Operator screens: settings and rules with their compliance warnings, promoters and their trees,
commissions by state, agreements, group buys, staff brackets and monthly closes (each rep's statement with
the bracket reached and the refunds rolled forward, each supervisor's team override), sales leads and
teams.

Every write that matters goes through a service (audited there); money rows are read-only here.
Edits of the rules that decide commissions (levels, rules, staff-share brackets, sales teams, group-buy
offers) are audited here. Actions declare `allowed_permissions`: the staff-share month close and the
group-buy sweep move money, so they follow the money rule (`core.roles.is_money_operator`, 财务). Sales
reps see only the bindings of members assigned to them, and their own leads.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, MoneyActionsMixin, yuan_display
from core.audit import audit_record
from core.errors import ApplicationError
from members.onboarding.selectors import active_sales_reps, assigned_member_ids, rep_scoped
from payments.admin_labels import ItemTypeFilter, item_type_column
from referrals import compliance, group_buys, sales_credit, services, staff_share
from referrals.models import (
    AgreementAcceptance,
    BindingRefusal,
    Commission,
    CommissionRule,
    GroupBuy,
    GroupBuyMember,
    GroupBuyOffer,
    Promoter,
    PromoterAgreement,
    PromoterLevel,
    PromoterPrice,
    ReferralBinding,
    ReferralLinkStat,
    ReferralSettings,
    SalesLead,
    SalesTeam,
    SalesTeamMember,
    StaffShareAdjustment,
    StaffShareBracket,
    StaffShareLine,
    StaffShareMonth,
    StaffShareOverride,
    StaffShareOverrideAdjustment,
    StaffShareStatement,
)


def _warnings_html(warnings) -> str:
    if not warnings:
        return format_html('<p style="color:#1aad19">{}</p>', _("未发现合规风险提示。"))
    colours = {"danger": "#d93026", "warn": "#c77700", "info": "#555"}
    return format_html_join(
        "",
        '<p style="color:{}"><strong>⚠</strong> {}</p>',
        ((colours[w.severity], w.message) for w in warnings),
    )


class ComplianceWarningsMixin:
    """Show the configuration's compliance warnings on top of a changelist."""

    def changelist_view(self, request, extra_context=None):
        for warning in compliance.configuration_warnings():
            level = messages.ERROR if warning.severity == "danger" else messages.WARNING
            if warning.severity == "info":
                level = messages.INFO
            self.message_user(request, warning.message, level=level)
        return super().changelist_view(request, extra_context)


# ---- settings ------------------------------------------------------------------------------------------


class ReferralSettingsForm(forms.ModelForm):
    acknowledge_level2 = forms.BooleanField(
        label=_("我已了解二级分佣的合规风险"),
        required=False,
        help_text=_(
            "开启二级分佣时必须勾选：上级从下级的销售中获利，连同付款人共三级，接近《禁止传销条例》所禁止的模式。"
        ),
    )

    class Meta:
        model = ReferralSettings
        fields = [
            "binding_validity_days",
            "protection_days",
            "share_link_overrides_binding",
            "commission_depth",
            "earning_requires_membership",
            "leaderboard_size",
        ]

    def clean(self):
        data = super().clean()
        if (
            data.get("commission_depth") == 2
            and self.instance.commission_depth != 2
            and not data.get("acknowledge_level2")
        ):
            self.add_error("acknowledge_level2", _("开启二级分佣前请确认已了解合规风险"))
        return data


@admin.register(ReferralSettings)
class ReferralSettingsAdmin(admin.ModelAdmin):
    form = ReferralSettingsForm
    list_display = (
        "__str__",
        "commission_depth",
        "binding_validity_days",
        "protection_days",
        "share_link_overrides_binding",
    )
    readonly_fields = (
        "compliance_warnings",
        "level2_acknowledged_by",
        "level2_acknowledged_at",
        "compliance_report",
    )
    fieldsets = (
        (_("合规"), {"fields": ("compliance_warnings", "compliance_report")}),
        (
            _("绑定与保护"),
            {"fields": ("binding_validity_days", "protection_days", "share_link_overrides_binding")},
        ),
        (
            _("分佣"),
            {
                "fields": (
                    "commission_depth",
                    "acknowledge_level2",
                    "level2_acknowledged_by",
                    "level2_acknowledged_at",
                    "earning_requires_membership",
                    "leaderboard_size",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return not ReferralSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        conf = ReferralSettings.current()
        return HttpResponseRedirect(reverse("admin:referrals_referralsettings_change", args=[conf.pk]))

    @admin.display(description=_("合规提示"))
    def compliance_warnings(self, obj):
        return _warnings_html(compliance.configuration_warnings(obj))

    @admin.display(description=_("推荐树报告"))
    def compliance_report(self, obj):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("referrals:compliance"),
            _("查看各推荐树的层级与人数"),
            reverse("referrals:compliance_csv"),
            _("导出 CSV"),
        )

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in ReferralSettingsForm.Meta.fields}
        services.settings_update(actor=request.user, **values)


# ---- levels, rules, promoters --------------------------------------------------------------------------


class PromoterPriceInline(admin.TabularInline):
    model = PromoterPrice
    extra = 0
    fields = ("item_type", "item_id", "price_fen", "applies_to")


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
            from payments import items

            choices = [(code, f"{code} · {kind.label}") for code, kind in sorted(items.registered().items())]
            field = forms.ChoiceField(choices=choices, label=field.label, help_text=field.help_text)
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
        ids = services.upline_ids(obj.user_id)
        return " → ".join(f"#{pk}" for pk in ids) or _("（无推荐人）")

    @admin.display(description=_("推广成交（实收/单数）"))
    def sales(self, obj):
        if not obj.pk:
            return "—"
        total, orders = services.promoter_sales(obj.user)
        return f"{total / 100:.2f} / {orders}"

    def save_model(self, request, obj, form, change):
        """Level and block changes go through their services (audited); nothing else is editable."""
        level, blocked, reason = obj.level, obj.is_blocked, obj.blocked_reason
        if not change:
            obj.level, obj.is_blocked, obj.blocked_reason = None, False, ""
            super().save_model(request, obj, form, change)
        if "level" in form.changed_data:
            services.promoter_set_level(user=obj.user, level=level, actor=request.user, reason="admin")
        if "is_blocked" in form.changed_data or "blocked_reason" in form.changed_data:
            services.promoter_block(user=obj.user, blocked=blocked, actor=request.user, reason=reason)
        obj.refresh_from_db()

    @admin.action(description=_("停止推广资格"), permissions=["change"])
    def block(self, request, queryset):
        for promoter in queryset:
            services.promoter_block(user=promoter.user, blocked=True, actor=request.user, reason="admin")

    @admin.action(description=_("恢复推广资格"), permissions=["change"])
    def unblock(self, request, queryset):
        for promoter in queryset:
            services.promoter_block(user=promoter.user, blocked=False, actor=request.user, reason="admin")


class BindingAddForm(forms.ModelForm):
    class Meta:
        model = ReferralBinding
        fields = ["user", "referrer"]

    def clean(self):
        data = super().clean()
        user, referrer = data.get("user"), data.get("referrer")
        if user and referrer:
            if services.active_binding(user) is not None:
                raise forms.ValidationError(_("该用户已有有效的推荐人，推荐关系只绑定一次。"))
            reason = services.referral_block_reason(user=user, referrer=referrer)
            if reason:
                raise forms.ValidationError(services.Refusal.MESSAGES.get(reason, reason))
        return data


@admin.register(ReferralBinding)
class ReferralBindingAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "referrer",
        "source",
        "channel",
        "bound_at",
        "expires_at",
        "protected_until",
        "ended_at",
    )
    list_filter = ("source", "channel", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__nickname", "referrer__username", "referrer__nickname", "code")
    autocomplete_fields = ("user", "referrer")
    list_select_related = ("user", "referrer")
    date_hierarchy = "bound_at"
    actions = ["end_bindings"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if rep_scoped(request.user):
            queryset = queryset.filter(user__in=assigned_member_ids(request.user))
        return queryset

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = BindingAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f.name for f in ReferralBinding._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        binding = services.binding_create(
            user=obj.user, referrer=obj.referrer, source=ReferralBinding.Source.OPERATOR
        )
        obj.pk = binding.pk
        audit_record(
            actor=request.user, action="referrals.binding_add", target=binding, summary="运营绑定推荐关系"
        )

    @admin.action(description=_("解除所选推荐关系"), permissions=["change"])
    def end_bindings(self, request, queryset):
        for binding in queryset.filter(ended_at__isnull=True):
            services.binding_end(binding=binding, actor=request.user, reason="operator")


@admin.register(BindingRefusal)
class BindingRefusalAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "referrer", "code", "reason", "context")
    list_filter = ("reason", "context")
    search_fields = ("user__username", "code")
    date_hierarchy = "created_at"


@admin.register(ReferralLinkStat)
class ReferralLinkStatAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "channel", "visits", "signups", "last_visit_at")
    list_select_related = ("user",)
    list_filter = ("channel",)
    search_fields = ("user__username", "user__nickname", "user__referral_code")
    ordering = ("-visits",)


# ---- commissions -----------------------------------------------------------------------------------------


class LedgerStateFilter(admin.SimpleListFilter):
    title = _("账户状态")
    parameter_name = "ledger"

    def lookups(self, request, model_admin):
        from payments.models import Earning

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


# ---- agreements --------------------------------------------------------------------------------------


@admin.register(PromoterAgreement)
class PromoterAgreementAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "published_at", "requires_reacceptance", "acceptances_count")
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("acceptances"))

    @admin.display(description=_("已同意人数"), ordering="n")
    def acceptances_count(self, obj):
        return obj.n

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return ("version", "title", "body", "published_at", "requires_reacceptance")
        return ("published_at",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.published_at is None

    @admin.action(description=_("发布所选版本"), permissions=["change"])
    def publish(self, request, queryset):
        for agreement in queryset.filter(published_at__isnull=True):
            services.agreement_publish(agreement=agreement, actor=request.user)


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("accepted_at", "user", "agreement", "ip")
    list_filter = ("agreement",)
    search_fields = ("user__username", "user__nickname")
    list_select_related = ("user", "agreement")
    date_hierarchy = "accepted_at"


# ---- group buys ---------------------------------------------------------------------------------------


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
    list_display = ("pk", "offer", "initiator", "status", "paid_count", "size", "expires_at", "succeeded_at")
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


# ---- staff share ------------------------------------------------------------------------------------------


@admin.register(StaffShareBracket)
class StaffShareBracketAdmin(AuditedChangesMixin, admin.ModelAdmin):
    list_display = ("lower_fen", "rate_bp")
    ordering = ("lower_fen",)

    def changelist_view(self, request, extra_context=None):
        self.message_user(
            request,
            _("阶梯按超额累进计算（如 0–10万 5%、10–50万 8%、50万以上 10%）；已月结的月份保留结算时的阶梯。"),
            messages.INFO,
        )
        return super().changelist_view(request, extra_context)


class StatementColumnsMixin:
    """What an operator reads on a rep's month: the bracket reached and the refunds rolled forward
    (refunds completed this month of orders counted in earlier months, deducted here)."""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("month", "rep")
            .annotate(rolled_forward_fen=Sum("adjustments__refunded_fen"))
        )

    @admin.display(description=_("达到阶梯"))
    def bracket_display(self, obj):
        bracket = staff_share.statement_bracket(obj)
        if bracket is None:
            return "-"
        return _("%(lower)s 以上 · %(rate)s%%") % {
            "lower": yuan_display(bracket.lower_fen),
            "rate": f"{bracket.rate_bp / 100:g}",
        }

    @admin.display(description=_("往月退款（本月扣回）"))
    def rolled_forward_display(self, obj):
        rolled = getattr(obj, "rolled_forward_fen", None)
        return yuan_display(rolled) if rolled else "-"

    @admin.display(description=_("分润"))
    def share_display(self, obj):
        return yuan_display(obj.share_fen)

    @admin.display(description=_("本月扣回"))
    def adjustment_display(self, obj):
        return yuan_display(obj.adjustment_fen) if obj.adjustment_fen else "-"

    @admin.display(description=_("净业绩"))
    def net_display(self, obj):
        return yuan_display(obj.net_fen)


class StatementInline(StatementColumnsMixin, FactRecordAdminMixin, admin.TabularInline):
    model = StaffShareStatement
    extra = 0
    fields = (
        "rep",
        "orders_count",
        "gross_fen",
        "refunded_fen",
        "net_display",
        "bracket_display",
        "share_display",
        "rolled_forward_display",
        "adjustment_display",
        "override",
    )
    readonly_fields = fields
    can_delete = False
    max_num = 0
    show_change_link = True


class OverrideInline(FactRecordAdminMixin, admin.TabularInline):
    """Each supervisor's team override in the month."""

    model = StaffShareOverride
    extra = 0
    fields = ("supervisor", "team_name", "rate_bp", "volume_fen", "share_fen", "adjustment_fen")
    readonly_fields = fields
    can_delete = False
    max_num = 0
    show_change_link = True


@admin.register(StaffShareMonth)
class StaffShareMonthAdmin(MoneyActionsMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "closed_at",
        "closed_by",
        "volume_fen",
        "share_fen",
        "override_fen",
        "adjustment_fen",
    )
    list_select_related = ("closed_by",)
    date_hierarchy = "month"
    inlines = [StatementInline, OverrideInline]
    change_list_template = "admin/referrals/staffsharemonth/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_close": self.has_money_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "close-due/",
                self.admin_site.admin_view(self.close_due),
                name="referrals_staffsharemonth_close",
            )
        ] + super().get_urls()

    def close_due(self, request):
        if not self.has_money_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:referrals_staffsharemonth_changelist"))
        try:
            closed = staff_share.staff_share_close_due(
                actor=request.user, now=timezone.now(), trigger="admin"
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            if closed:
                self.message_user(request, _("已结算：%s") % ", ".join(str(m) for m in closed))
            else:
                self.message_user(request, _("没有需要结算的月份"), messages.INFO)
        return HttpResponseRedirect(reverse("admin:referrals_staffsharemonth_changelist"))


class StaffShareLineInline(FactRecordAdminMixin, admin.TabularInline):
    """The orders a statement counted (net of refunds at the close)."""

    model = StaffShareLine
    extra = 0
    fields = ("order", "member", "amount_fen", "refunded_at_close_fen")
    readonly_fields = fields


class AdjustmentInline(FactRecordAdminMixin, admin.TabularInline):
    """Refunds of earlier months' orders completed in this statement's month, and what they took back."""

    model = StaffShareAdjustment
    fk_name = "statement"
    extra = 0
    fields = ("source", "refunded_fen", "amount_fen")
    readonly_fields = fields
    verbose_name = _("往月退款扣回")
    verbose_name_plural = _("往月退款扣回")


@admin.register(StaffShareStatement)
class StaffShareStatementAdmin(StatementColumnsMixin, FactRecordAdminMixin, admin.ModelAdmin):
    """A rep's month: the orders counted, the refunds rolled forward, the bracket reached, the share."""

    inlines = [StaffShareLineInline, AdjustmentInline]
    list_display = (
        "month",
        "rep",
        "orders_count",
        "gross_fen",
        "refunded_fen",
        "net_display",
        "bracket_display",
        "share_display",
        "rolled_forward_display",
        "adjustment_display",
        "override",
    )
    list_filter = ("month",)
    search_fields = ("rep__username", "rep__nickname")
    readonly_fields = ("bracket_display", "rolled_forward_display")


@admin.register(StaffShareAdjustment)
class StaffShareAdjustmentAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("statement", "source", "refunded_fen", "amount_fen")
    list_select_related = ("statement__month", "statement__rep", "source")


class OverrideAdjustmentInline(FactRecordAdminMixin, admin.TabularInline):
    model = StaffShareOverrideAdjustment
    fk_name = "override"
    extra = 0
    fields = ("source", "refunded_fen", "amount_fen")
    readonly_fields = fields


class OverrideStatementInline(FactRecordAdminMixin, admin.TabularInline):
    """The reps' statements whose volume the override counted."""

    model = StaffShareStatement
    fk_name = "override"
    extra = 0
    fields = ("rep", "orders_count", "net_fen", "share_fen")
    readonly_fields = fields
    verbose_name = _("团队成员业绩")
    verbose_name_plural = _("团队成员业绩")


@admin.register(StaffShareOverride)
class StaffShareOverrideAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    inlines = [OverrideStatementInline, OverrideAdjustmentInline]
    list_display = (
        "month",
        "supervisor",
        "team_name",
        "rate_bp",
        "volume_fen",
        "share_fen",
        "adjustment_fen",
    )
    list_filter = ("month",)
    search_fields = ("supervisor__username", "supervisor__nickname", "team_name")
    list_select_related = ("month", "supervisor")


# ---- sales credit: leads and teams -----------------------------------------------------------------------


class SalesLeadAddForm(forms.ModelForm):
    phone = forms.CharField(label=_("手机号"), required=False, max_length=32)

    class Meta:
        model = SalesLead
        fields = ["user", "phone", "rep", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = active_sales_reps().order_by("pk")

    def clean(self):
        data = super().clean()
        rep = data.get("rep")
        if rep is not None:
            try:
                sales_credit.sales_lead_check(rep=rep, user=data.get("user"), phone=data.get("phone", ""))
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(SalesLead)
class SalesLeadAdmin(admin.ModelAdmin):
    """Operators give a prospective member to a rep; that rep is credited with the member's first sale."""

    list_display = ("user", "masked_phone", "rep", "assigned_by", "assigned_at", "ended_at", "end_reason")
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__nickname", "rep__username", "rep__nickname")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "rep", "assigned_by")
    date_hierarchy = "assigned_at"
    actions = ["end_leads"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if rep_scoped(request.user):
            queryset = queryset.filter(rep=request.user)
        return queryset

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SalesLeadAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "phone", "rep", "note"]
        return [
            "user",
            "masked_phone",
            "rep",
            "note",
            "assigned_by",
            "assigned_at",
            "ended_at",
            "ended_by",
            "end_reason",
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return obj.masked_phone or "-"

    def save_model(self, request, obj, form, change):
        if change:
            return
        lead = sales_credit.sales_lead_assign(
            rep=form.cleaned_data["rep"],
            user=form.cleaned_data.get("user"),
            phone=form.cleaned_data.get("phone", ""),
            note=form.cleaned_data.get("note", ""),
            actor=request.user,
        )
        obj.pk = lead.pk

    @admin.action(description=_("结束所选销售线索"), permissions=["change"])
    def end_leads(self, request, queryset):
        for lead in queryset.filter(ended_at__isnull=True):
            sales_credit.sales_lead_end(lead=lead, actor=request.user, reason="operator")


class SalesTeamMemberForm(forms.ModelForm):
    class Meta:
        model = SalesTeamMember
        fields = ["rep"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = active_sales_reps().order_by("pk")


class SalesTeamMemberInline(admin.TabularInline):
    model = SalesTeamMember
    form = SalesTeamMemberForm
    extra = 1


@admin.register(SalesTeam)
class SalesTeamAdmin(AuditedChangesMixin, admin.ModelAdmin):
    """A supervisor's team and override rate (团队管理分润, basis points of the team's month volume)."""

    list_display = ("name", "supervisor", "override_bp", "is_active", "reps")
    list_select_related = ("supervisor",)
    autocomplete_fields = ("supervisor",)
    inlines = [SalesTeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reps_count=Count("members"))

    @admin.display(description=_("成员数"), ordering="reps_count")
    def reps(self, obj):
        return obj.reps_count
