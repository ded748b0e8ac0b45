"""Operator screens for notifications, subscribe-message templates and members' opt-ins."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin
from members.admin.common import RepScopedMixin
from members.models import Notification, SubscribeOptIn, SubscribeTemplate
from members.notifications.selectors import notification_kind_label, notification_kind_labels


@admin.register(SubscribeTemplate)
class SubscribeTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "template_id", "fields", "page", "is_active")
    list_editable = ("is_active",)


@admin.register(SubscribeOptIn)
class SubscribeOptInAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "template_key", "remaining", "accepted_total", "updated_at")
    list_filter = ("template_key",)
    search_fields = ("user__username", "user__member_no")


class NotificationKindFilter(admin.SimpleListFilter):
    """Kinds by what they are called (each app names its own: `<app>.notification_kinds`)."""

    title = _("类型")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(notification_kind_labels().items(), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "kind_display", "title", "read_at", "push_status")
    list_filter = (NotificationKindFilter, "push_status", ("read_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__username", "user__member_no", "title")
    date_hierarchy = "created_at"

    @admin.display(description=_("类型"), ordering="kind")
    def kind_display(self, obj: Notification) -> str:
        return notification_kind_label(obj.kind)
