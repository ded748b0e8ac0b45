"""Operator screens for users, tiers and memberships. Personal data is shown masked."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from members.models import Membership, MembershipTier, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "nickname", "member_no", "masked_phone", "is_staff", "date_joined")
    search_fields = ("username", "nickname", "member_no", "email")
    readonly_fields = ("masked_phone",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("资料"),
            {"fields": ("nickname", "avatar_url", "email", "masked_phone", "phone_verified", "member_no")},
        ),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone


@admin.register(MembershipTier)
class MembershipTierAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "price_fen",
        "duration_days",
        "rank",
        "single_purchase_discount_bp",
        "is_active",
    )
    ordering = ("rank",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tier", "starts_at", "ends_at")
    list_filter = ("tier",)
    search_fields = ("user__username", "user__nickname", "user__member_no")
    raw_id_fields = ("user",)
