"""Operator screens for users: the member list (tier, expiry, onboarding step; a full phone number finds
a member by its keyed hash), personal data masked, and what only superusers may change."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin
from core.crypto import normalize_phone
from members.admin.common import ExpiryFilter, OperatorActionsMixin, RepScopedMixin, TierFilter
from members.admin.memberships import grant_membership_action
from members.cache_versions import shown_facts_bump
from members.models import MemberProfile, Membership, Onboarding, User


class OnboardingStageFilter(admin.SimpleListFilter):
    title = _("入会步骤")
    parameter_name = "onboarding"

    def lookups(self, request, model_admin):
        return Onboarding.Stage.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(onboarding__stage=self.value())
        return queryset


MEMBERSHIP_INLINE_FIELDS: tuple[str, ...] = ("tier", "starts_at", "ends_at")


class MembershipInline(FactRecordAdminMixin, admin.StackedInline):
    model = Membership
    fields = MEMBERSHIP_INLINE_FIELDS
    readonly_fields = MEMBERSHIP_INLINE_FIELDS
    extra = 0


ONBOARDING_INLINE_FIELDS: tuple[str, ...] = (
    "stage",
    "stage_since",
    "sales_rep",
    "service_rep",
    "service_group",
    "reps_assigned_at",
    "service_group_joined_at",
    "intro_submitted_at",
    "big_group_joined_at",
)


class OnboardingInline(FactRecordAdminMixin, admin.StackedInline):
    model = Onboarding
    fk_name = "user"
    fields = ONBOARDING_INLINE_FIELDS
    readonly_fields = ONBOARDING_INLINE_FIELDS
    extra = 0


class ProfileInline(admin.StackedInline):
    model = MemberProfile
    extra = 0
    fields = ["real_name", "city", "industry", "company", "self_introduction"]


# What other members see of a user (a teacher on cached course pages): edits move the shown-facts version.
SHOWN_USER_FIELDS = {"username", "nickname", "avatar_url"}
STAFF_ONLY_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(OperatorActionsMixin, RepScopedMixin, DjangoUserAdmin):
    list_display = (
        "username",
        "nickname",
        "member_no",
        "masked_phone",
        "tier_display",
        "ends_at_display",
        "stage_display",
        "is_staff",
        "date_joined",
    )
    list_filter = (TierFilter, ExpiryFilter, OnboardingStageFilter, "is_staff", "is_active", "groups")
    list_select_related = ("membership__tier", "onboarding")
    search_fields = ("username", "nickname", "member_no", "email", "referral_code")
    search_help_text = _("用户名、昵称、会员编号、邮箱、推荐码，或完整手机号")
    readonly_fields = ("masked_phone", "member_no", "referral_code")
    date_hierarchy = "date_joined"
    member_path = "pk"
    inlines = [MembershipInline, OnboardingInline, ProfileInline]
    actions = ["grant_membership"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("资料"),
            {
                "fields": (
                    "nickname",
                    "avatar_url",
                    "email",
                    "masked_phone",
                    "phone_verified",
                    "member_no",
                    "referral_code",
                )
            },
        ),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & SHOWN_USER_FIELDS:
            shown_facts_bump()  # a teacher's name and avatar show on cached course pages

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(ch for ch in search_term if ch.isdigit())
        if 7 <= len(digits) <= 15 and normalize_phone(search_term):
            results = results | queryset.filter(pk__in=User.objects.filter_by_phone(search_term).values("pk"))
        return results, may_have_duplicates

    # Staff accounts, groups, permissions and passwords are the superusers' (an operator who could edit
    # them could make themselves finance, or take over an account by changing its e-mail or password).
    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return tuple(
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "password")})
            for name, opts in fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += STAFF_ONLY_FIELDS + ("last_login", "date_joined")
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone

    @admin.display(description=_("等级"), ordering="membership__tier__rank")
    def tier_display(self, obj: User) -> str:
        membership = getattr(obj, "membership", None)
        return membership.tier.code if membership else "-"

    @admin.display(description=_("到期"), ordering="membership__ends_at")
    def ends_at_display(self, obj: User):
        membership = getattr(obj, "membership", None)
        if membership is None:
            return "-"
        text = timezone.localtime(membership.ends_at).strftime("%Y-%m-%d")
        return (
            text
            if membership.ends_at > timezone.now()
            else format_html('<span style="color:#d93026">{}</span>', text)
        )

    @admin.display(description=_("入会步骤"), ordering="onboarding__stage")
    def stage_display(self, obj: User) -> str:
        onboarding = getattr(obj, "onboarding", None)
        return onboarding.get_stage_display() if onboarding else "-"

    @admin.action(description=_("开通/延长会员（需填写原因）"), permissions=["operator"])
    def grant_membership(self, request, queryset):
        return grant_membership_action(self, request, queryset)
