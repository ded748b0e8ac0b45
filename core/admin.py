"""Admin of core: the audit log (append-only) and WeChat identities (read-only, identifiers masked)."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin, admin_url_for, mask_identifier
from core.models import AttemptCounter, AuditLog, WeChatIdentity


@admin.register(AuditLog)
class AuditLogAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Who did what to money and memberships. Rows are written by services and admin actions only."""

    list_display = ("created_at", "actor", "action", "target_display", "summary")
    list_filter = ("action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=target_id", "summary", "action", "actor__username", "actor__nickname")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "action", "target_display", "summary", "details_display")
    readonly_fields = fields

    @admin.display(description=_("对象"), ordering="target_type")
    def target_display(self, obj):
        text = f"{obj.target_type}#{obj.target_id}"
        url = admin_url_for(obj.target_type, obj.target_id) if obj.target_id.isdigit() else ""
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    @admin.display(description=_("详情"))
    def details_display(self, obj):
        if not obj.details:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", obj.details.items())
        return format_html("<table>{}</table>", rows)


@admin.register(WeChatIdentity)
class WeChatIdentityAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Created by the login flows; never edited by hand. openid/unionid are shown masked; support staff
    find a person by pasting the full openid or unionid into search (exact match)."""

    list_display = ("user", "kind", "appid", "masked_openid", "masked_unionid", "created_at")
    list_filter = ("kind", "appid")
    search_fields = ("=openid", "=unionid", "user__username", "user__nickname", "user__member_no")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "kind", "appid", "masked_openid", "masked_unionid", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="openid")
    def masked_openid(self, obj):
        return mask_identifier(obj.openid)

    @admin.display(description="unionid")
    def masked_unionid(self, obj):
        return mask_identifier(obj.unionid)


@admin.register(AttemptCounter)
class AttemptCounterAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Failed logins per account/address and rejected notifications per minute (read-only)."""

    list_display = ("window_start", "key", "count")
    list_filter = ("window_start",)
    search_fields = ("key",)
    fields = ("window_start", "key", "count")
    readonly_fields = fields


# Beat's PeriodicTask admin with the money-task rule (re-registers django_celery_beat's).
from core import admin_beat  # noqa: E402, F401
