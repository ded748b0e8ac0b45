"""Admin: referral bindings (operators add or end them through the services; reps see only their
assigned members'), refused bindings and the per-channel link counters."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin, label_column, label_filter
from core.audit import audit_record
from members.onboarding import selectors as onboarding_selectors
from referrals import (
    attribution,
)
from referrals.models import (
    BindingRefusal,
    ReferralBinding,
    ReferralLinkStat,
)
from referrals.models.attribution import LinkChannel

CHANNEL_LABELS = dict(LinkChannel.choices)


class BindingAddForm(forms.ModelForm):
    class Meta:
        model = ReferralBinding
        fields = ["user", "referrer"]

    def clean(self):
        data = super().clean()
        user, referrer = data.get("user"), data.get("referrer")
        if user and referrer:
            if attribution.active_binding(user) is not None:
                raise forms.ValidationError(_("该用户已有有效的推荐人，推荐关系只绑定一次。"))
            reason = attribution.referral_block_reason(user=user, referrer=referrer)
            if reason:
                raise forms.ValidationError(attribution.Refusal.MESSAGES.get(reason, reason))
        return data


@admin.register(ReferralBinding)
class ReferralBindingAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "referrer",
        "source",
        "channel_display",
        "bound_at",
        "expires_at",
        "protected_until",
        "ended_at",
    )
    list_filter = (
        "source",
        label_filter("channel", CHANNEL_LABELS, title=_("渠道")),
        ("ended_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__username", "user__nickname", "referrer__username", "referrer__nickname", "code")
    autocomplete_fields = ("user", "referrer")
    list_select_related = ("user", "referrer")
    date_hierarchy = "bound_at"
    actions = ["end_bindings"]

    channel_display = label_column("channel", CHANNEL_LABELS, description=_("渠道"))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if onboarding_selectors.rep_scoped(request.user):
            queryset = queryset.filter(user__in=onboarding_selectors.assigned_member_ids(request.user))
        return queryset

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = BindingAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Every field read-only; the channel as its label (the stored code means nothing to an operator).
        return [f.name if f.name != "channel" else "channel_display" for f in ReferralBinding._meta.fields]

    def get_exclude(self, request, obj=None):
        return ("channel",) if obj is not None else ()  # shown read-only as channel_display

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        binding = attribution.binding_create(
            user=obj.user, referrer=obj.referrer, source=ReferralBinding.Source.OPERATOR
        )
        obj.pk = binding.pk
        audit_record(
            actor=request.user, action="referrals.binding_add", target=binding, summary="运营绑定推荐关系"
        )

    @admin.action(description=_("解除所选推荐关系"), permissions=["change"])
    def end_bindings(self, request, queryset):
        for binding in queryset.filter(ended_at__isnull=True):
            attribution.binding_end(binding=binding, actor=request.user, reason="operator")


@admin.register(BindingRefusal)
class BindingRefusalAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "referrer", "code", "reason_display", "context_display")
    list_filter = (
        label_filter("reason", attribution.Refusal.MESSAGES, title=_("原因")),
        label_filter("context", attribution.Refusal.CONTEXTS, title=_("场景")),
    )
    search_fields = ("user__username", "code")
    date_hierarchy = "created_at"

    reason_display = label_column("reason", attribution.Refusal.MESSAGES, description=_("原因"))
    context_display = label_column("context", attribution.Refusal.CONTEXTS, description=_("场景"))


@admin.register(ReferralLinkStat)
class ReferralLinkStatAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "channel", "visits", "signups", "last_visit_at")
    list_select_related = ("user",)
    list_filter = ("channel",)
    search_fields = ("user__username", "user__nickname", "user__referral_code")
    ordering = ("-visits",)
