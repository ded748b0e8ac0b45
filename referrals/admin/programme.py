"""Admin: the programme settings (one row) with their compliance warnings, and the mixin that shows
those warnings on top of the rule editors (levels, commission rules)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from referrals import (
    compliance,
    programme,
)
from referrals.models import (
    ReferralSettings,
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
        programme.settings_update(actor=request.user, **values)
