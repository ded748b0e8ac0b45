"""Admin: staff-share brackets, monthly closes (the close is a money action), each rep's statement
with the bracket reached and the refunds rolled forward, each supervisor's team override."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, MoneyActionsMixin, yuan_display
from core.errors import ApplicationError
from referrals import (
    staff_share,
)
from referrals.models import (
    StaffShareAdjustment,
    StaffShareBracket,
    StaffShareLine,
    StaffShareMonth,
    StaffShareOverride,
    StaffShareOverrideAdjustment,
    StaffShareStatement,
)


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
