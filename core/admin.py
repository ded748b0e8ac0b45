from django.contrib import admin

from core.models import AuditLog, WeChatIdentity


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id", "summary")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "summary", "actor__username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WeChatIdentity)
class WeChatIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "appid", "masked_openid", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("user",)
    exclude = ("session_key",)

    @admin.display(description="openid")
    def masked_openid(self, obj):
        return obj.openid[:4] + "***"
