"""Operator screens for notifications, subscribe-message templates and members' opt-ins."""

from __future__ import annotations

from django.contrib import admin

from core.admin_tools import FactRecordAdminMixin
from members.admin.common import RepScopedMixin
from members.models import Notification, SubscribeOptIn, SubscribeTemplate


@admin.register(SubscribeTemplate)
class SubscribeTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "template_id", "fields", "page", "is_active")
    list_editable = ("is_active",)


@admin.register(SubscribeOptIn)
class SubscribeOptInAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "template_key", "remaining", "accepted_total", "updated_at")
    list_filter = ("template_key",)
    search_fields = ("user__username", "user__member_no")


@admin.register(Notification)
class NotificationAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at", "push_status")
    list_filter = ("kind", "push_status", ("read_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__username", "user__member_no", "title")
    date_hierarchy = "created_at"
