"""Admin: promoter agreement versions (publish; published versions are read-only) and acceptances."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin
from referrals import (
    agreements,
)
from referrals.models import (
    AgreementAcceptance,
    PromoterAgreement,
)


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
            agreements.agreement_publish(agreement=agreement, actor=request.user)


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("accepted_at", "user", "agreement", "ip")
    list_filter = ("agreement",)
    search_fields = ("user__username", "user__nickname")
    list_select_related = ("user", "agreement")
    date_hierarchy = "accepted_at"
