"""Operator screens for members: users, tiers, memberships (grant/extend with a reason), onboarding
(funnel, stuck list, reassign reps), service groups, notifications, points and the points mall.

Personal data is shown masked (phones; a full phone number typed into search finds the member through
its keyed hash). Every write that matters goes through a service (audited there); tier and reward
edits are audited here. Sales and customer-service staff see only the members assigned to them
(`members.selectors.rep_scoped`); only operators grant, revoke, reassign and adjust points (each
action declares `allowed_permissions`, so nobody else sees it); only superusers change staff accounts,
groups, permissions and passwords.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import roles
from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, admin_link
from core.crypto import normalize_phone
from core.errors import ApplicationError
from members import selectors, services
from members.models import (
    MemberProfile,
    Membership,
    MembershipGrant,
    MembershipReminder,
    MembershipTier,
    Notification,
    Onboarding,
    PointsAccount,
    PointsEntry,
    Redemption,
    Reward,
    ServiceGroup,
    ServiceGroupStaff,
    SubscribeOptIn,
    SubscribeTemplate,
    User,
)
from payments import items
from payments.admin_labels import ItemTypeFilter, item_type_column


class RepScopedMixin:
    """Rows of members a sales or service rep is not assigned to are not shown to that rep."""

    member_path = "user"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if selectors.rep_scoped(request.user):
            queryset = queryset.filter(
                **{f"{self.member_path}__in": selectors.assigned_member_ids(request.user)}
            )
        return queryset


class OperatorActionsMixin:
    """`allowed_permissions=["operator"]`: membership grants, revocations, rep reassignment and points
    adjustments are the operators' (运营, and superusers)."""

    def has_operator_permission(self, request) -> bool:
        return roles.has_role(request.user, roles.OPERATOR)


# ---- filters ---------------------------------------------------------------------------------------------


class TierFilter(admin.SimpleListFilter):
    title = _("会员等级")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return [(t.code, t.name) for t in MembershipTier.objects.order_by("rank")] + [("none", _("非会员"))]

    def queryset(self, request, queryset):
        prefix = "" if queryset.model is Membership else "membership__"
        if self.value() == "none":
            return (
                queryset.none() if queryset.model is Membership else queryset.filter(membership__isnull=True)
            )
        if self.value():
            return queryset.filter(**{f"{prefix}tier__code": self.value()})
        return queryset


class ExpiryFilter(admin.SimpleListFilter):
    title = _("有效期")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("active", _("有效")),
            ("30", _("30 天内到期")),
            ("7", _("7 天内到期")),
            ("expired", _("已到期")),
        ]

    def queryset(self, request, queryset):
        prefix = "" if queryset.model is Membership else "membership__"
        now = timezone.now()
        value = self.value()
        if value == "active":
            return queryset.filter(**{f"{prefix}starts_at__lte": now, f"{prefix}ends_at__gt": now})
        if value in ("30", "7"):
            return queryset.filter(
                **{f"{prefix}ends_at__gt": now, f"{prefix}ends_at__lte": now + timedelta(days=int(value))}
            )
        if value == "expired":
            return queryset.filter(**{f"{prefix}ends_at__lte": now})
        return queryset


class OnboardingStageFilter(admin.SimpleListFilter):
    title = _("入会步骤")
    parameter_name = "onboarding"

    def lookups(self, request, model_admin):
        return Onboarding.Stage.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(onboarding__stage=self.value())
        return queryset


# ---- forms for operator actions ------------------------------------------------------------------------------


class GrantForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("会员等级"), queryset=MembershipTier.objects.order_by("rank"))
    days = forms.IntegerField(label=_("天数"), min_value=1, max_value=3660, initial=365)
    reason = forms.CharField(label=_("原因"), max_length=200, help_text=_("如：线下转账、活动赠送、补偿"))


def _reps(role: str):
    return User.objects.filter(is_active=True, groups__name=role).order_by("pk").distinct()


class ReassignForm(forms.Form):
    sales_rep = forms.ModelChoiceField(label=_("销售顾问"), queryset=User.objects.none(), required=False)
    service_rep = forms.ModelChoiceField(label=_("客服"), queryset=User.objects.none(), required=False)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sales_rep"].queryset = _reps(roles.SALES)
        self.fields["service_rep"].queryset = _reps(roles.CUSTOMER_SERVICE)

    def clean(self):
        data = super().clean()
        if not data.get("sales_rep") and not data.get("service_rep"):
            raise forms.ValidationError(_("请至少选择一位顾问"))
        return data


class PointsAdjustForm(forms.Form):
    amount = forms.IntegerField(label=_("积分（负数为扣减）"))
    reason = forms.CharField(label=_("原因"), max_length=200)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("不能为 0"))
        return amount


def _action_page(admin_obj, request, *, title: str, form, objects, description: str = ""):
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": objects,
        "description": description,
        "opts": admin_obj.model._meta,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    }
    return render(request, "admin/members/action_form.html", context)


# ---- users ---------------------------------------------------------------------------------------------------


class MembershipInline(FactRecordAdminMixin, admin.StackedInline):
    model = Membership
    fields = ["tier", "starts_at", "ends_at"]
    readonly_fields = fields
    extra = 0


class OnboardingInline(FactRecordAdminMixin, admin.StackedInline):
    model = Onboarding
    fk_name = "user"
    fields = [
        "stage",
        "stage_since",
        "sales_rep",
        "service_rep",
        "service_group",
        "reps_assigned_at",
        "service_group_joined_at",
        "intro_submitted_at",
        "big_group_joined_at",
    ]
    readonly_fields = fields
    extra = 0


class ProfileInline(admin.StackedInline):
    model = MemberProfile
    extra = 0
    fields = ["real_name", "city", "industry", "company", "self_introduction"]


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
        return _grant_membership(self, request, queryset)


def _grant_membership(admin_obj, request, users):
    """Grant or extend the selected users' memberships: a form first (tier, days, reason), then the
    service for each user (it records the operator and the reason and writes the audit row)."""
    form = GrantForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for user in users:
            try:
                services.membership_grant_manual(
                    user=user,
                    tier=form.cleaned_data["tier"],
                    days=form.cleaned_data["days"],
                    operator=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                admin_obj.message_user(request, f"{user}: {exc.message}", messages.ERROR)
            else:
                done += 1
        admin_obj.message_user(request, _("已为 %(n)s 位用户开通/延长会员") % {"n": done}, messages.SUCCESS)
        return None
    return _action_page(
        admin_obj,
        request,
        title=_("开通/延长会员"),
        form=form,
        objects=users,
        description=_(
            "同等级顺延；更高等级从今天起升级（原会员剩余天数不折抵）；更低等级按价格折算为当前等级天数。"
        ),
    )


# ---- tiers and memberships ------------------------------------------------------------------------------------


@admin.register(MembershipTier)
class MembershipTierAdmin(AuditedChangesMixin, admin.ModelAdmin):
    """Prices, durations and discounts of the tiers: every edit is in the audit log."""

    list_display = (
        "code",
        "name",
        "price_fen",
        "duration_days",
        "rank",
        "single_purchase_discount_bp",
        "member_no_prefix",
        "is_active",
    )
    list_editable = ("is_active",)
    ordering = ("rank",)
    fields = (
        "code",
        "name",
        "price_fen",
        "duration_days",
        "rank",
        "benefits",
        "single_purchase_discount_bp",
        "member_no_prefix",
        "is_active",
    )

    def get_readonly_fields(self, request, obj=None):
        # Codes are item ids of past orders; changing one would orphan them.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


class GrantInline(FactRecordAdminMixin, admin.TabularInline):
    model = MembershipGrant
    fk_name = "membership"
    extra = 0
    fields = [
        "created_at",
        "kind",
        "source",
        "tier",
        "days",
        "value_fen",
        "credit_fen",
        "order",
        "ends_after",
        "operator",
        "reason",
        "revoked_at",
    ]
    readonly_fields = fields


class ReminderInline(FactRecordAdminMixin, admin.TabularInline):
    model = MembershipReminder
    extra = 0
    fields = ["kind", "ends_at", "sent_at"]
    readonly_fields = fields


@admin.register(Membership)
class MembershipAdmin(OperatorActionsMixin, RepScopedMixin, admin.ModelAdmin):
    """Memberships change only through grants (orders, operators' grants with a reason, refunds)."""

    list_display = ("user", "member_no", "tier", "starts_at", "ends_at", "days_left")
    list_filter = (TierFilter, ExpiryFilter)
    list_select_related = ("user", "tier")
    search_fields = ("user__username", "user__nickname", "user__member_no")
    date_hierarchy = "ends_at"
    readonly_fields = ("user", "tier", "starts_at", "ends_at")
    inlines = [GrantInline, ReminderInline]
    actions = ["extend_memberships"]

    def has_add_permission(self, request):
        return False  # use the "开通/延长会员" action: it records who and why

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("延长/升级所选会员（需填写原因）"), permissions=["operator"])
    def extend_memberships(self, request, queryset):
        return _grant_membership(self, request, [m.user for m in queryset.select_related("user")])

    @admin.display(description=_("会员编号"), ordering="user__member_no")
    def member_no(self, obj: Membership) -> str:
        return obj.user.member_no or "-"

    @admin.display(description=_("剩余天数"))
    def days_left(self, obj: Membership) -> int:
        return selectors.days_left(obj)


@admin.register(MembershipGrant)
class MembershipGrantAdmin(OperatorActionsMixin, RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "kind",
        "source",
        "tier",
        "days",
        "value_display",
        "order",
        "operator",
        "reason",
        "revoked_at",
    )
    list_filter = ("kind", "source", "tier", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user", "tier", "order", "operator")
    search_fields = ("user__username", "user__member_no", "order__order_no", "reason")
    date_hierarchy = "created_at"
    actions = ["revoke_grants"]

    @admin.display(description=_("价值"), ordering="value_fen")
    def value_display(self, obj):
        from core.money import fen_to_yuan_text

        return fen_to_yuan_text(obj.value_fen, always_decimals=True) if obj.value_fen else "-"

    @admin.action(description=_("撤销所选运营赠送（订单开通的请退款）"), permissions=["operator"])
    def revoke_grants(self, request, queryset):
        reason = str(_("运营撤销"))
        done = 0
        for grant in queryset.filter(order__isnull=True, revoked_at__isnull=True):
            try:
                services.membership_revoke_manual(grant=grant, operator=request.user, reason=reason)
            except ApplicationError as exc:
                self.message_user(request, f"#{grant.pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        skipped = queryset.count() - done
        self.message_user(request, _("已撤销 %(n)s 条") % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request, _("%(n)s 条未撤销（订单开通的请退款，或已撤销）") % {"n": skipped}, messages.WARNING
            )


# ---- onboarding and service groups ------------------------------------------------------------------------


@admin.register(Onboarding)
class OnboardingAdmin(OperatorActionsMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "member_no",
        "tier",
        "stage",
        "days_at_stage",
        "sales_rep",
        "service_rep",
        "started_at",
    )
    list_filter = ("stage", "tier", "sales_rep", "service_rep")
    list_select_related = ("user", "tier", "sales_rep", "service_rep")
    search_fields = ("user__username", "user__nickname", "user__member_no")
    date_hierarchy = "started_at"
    readonly_fields = (
        "user",
        "tier",
        "started_at",
        "stage",
        "stage_since",
        "completed_at",
        "sales_rep",
        "service_rep",
        "reps_assigned_at",
        "service_group",
        "service_group_joined_at",
        "intro_submitted_at",
        "self_introduction",
        "big_group",
        "big_group_joined_at",
    )
    fields = readonly_fields
    actions = ["reassign_reps", "mark_service_group", "mark_big_group"]
    change_list_template = "admin/members/onboarding_changelist.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if selectors.rep_scoped(request.user):
            queryset = queryset.filter(Q(sales_rep=request.user) | Q(service_rep=request.user))
        return queryset

    @admin.display(description=_("会员编号"), ordering="user__member_no")
    def member_no(self, obj: Onboarding) -> str:
        return obj.user.member_no or "-"

    @admin.display(description=_("停留天数"), ordering="stage_since")
    def days_at_stage(self, obj: Onboarding):
        if obj.stage == Onboarding.Stage.DONE:
            return "-"
        return (timezone.now() - obj.stage_since).days

    @admin.display(description=_("自我介绍"))
    def self_introduction(self, obj: Onboarding) -> str:
        profile = MemberProfile.objects.filter(user=obj.user_id).first()
        return profile.self_introduction if profile else ""

    def get_urls(self):
        return [
            path("funnel/", self.admin_site.admin_view(self.funnel_view), name="members_onboarding_funnel"),
            *super().get_urls(),
        ]

    def funnel_view(self, request):
        """The onboarding funnel and the members stuck at a step for more than N days."""
        try:
            days = max(0, int(request.GET.get("days", 3)))
        except ValueError:
            days = 3
        stage = request.GET.get("stage", "")
        stuck = selectors.onboarding_stuck(days=days, stage=stage)
        if selectors.rep_scoped(request.user):
            stuck = stuck.filter(Q(sales_rep=request.user) | Q(service_rep=request.user))
        context = {
            **self.admin_site.each_context(request),
            "title": _("入会漏斗"),
            "opts": self.model._meta,
            "funnel": selectors.onboarding_funnel(),
            "stuck": stuck[:200],
            "days": days,
            "stage": stage,
            "stages": Onboarding.Stage.choices,
        }
        return render(request, "admin/members/onboarding_funnel.html", context)

    @admin.action(description=_("重新分配顾问"), permissions=["operator"])
    def reassign_reps(self, request, queryset):
        form = ReassignForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for onboarding in queryset:
                try:
                    services.onboarding_reassign(
                        onboarding=onboarding,
                        operator=request.user,
                        sales_rep=form.cleaned_data["sales_rep"],
                        service_rep=form.cleaned_data["service_rep"],
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"{onboarding}: {exc.message}", messages.ERROR)
            self.message_user(request, _("已重新分配"), messages.SUCCESS)
            return None
        return _action_page(self, request, title=_("重新分配顾问"), form=form, objects=queryset)

    def _mark(self, request, queryset, step: str) -> None:
        for onboarding in queryset:
            services.onboarding_mark_step(onboarding=onboarding, step=step, operator=request.user)
        self.message_user(request, _("已标记"), messages.SUCCESS)

    @admin.action(description=_("标记：已加入对接群"), permissions=["change"])
    def mark_service_group(self, request, queryset):
        self._mark(request, queryset, "service_group")

    @admin.action(description=_("标记：已加入大群"), permissions=["change"])
    def mark_big_group(self, request, queryset):
        self._mark(request, queryset, "big_group")


class ServiceGroupStaffInline(admin.TabularInline):
    model = ServiceGroupStaff
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "tier", "has_qr", "qr_expires_at", "is_active", "created_at")
    list_filter = ("kind", "is_active", "tier")
    search_fields = ("name",)
    inlines = [ServiceGroupStaffInline]
    fields = ("kind", "name", "qr_image", "qr_expires_at", "tier", "notes", "is_active")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if selectors.rep_scoped(request.user):
            queryset = queryset.filter(staff_roles__user=request.user).distinct()
        return queryset

    @admin.display(description=_("二维码"), boolean=True)
    def has_qr(self, obj: ServiceGroup) -> bool:
        return obj.qr_valid

    def save_model(self, request, obj, form, change):
        if "qr_image" in form.changed_data and obj.qr_image and not form.cleaned_data.get("qr_expires_at"):
            obj.qr_expires_at = timezone.now() + timedelta(days=7)  # WeChat group QR codes last 7 days
        super().save_model(request, obj, form, change)


# ---- notifications ---------------------------------------------------------------------------------------


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


# ---- points and the mall ------------------------------------------------------------------------------------


@admin.register(PointsAccount)
class PointsAccountAdmin(OperatorActionsMixin, RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "balance", "earned_total", "spent_total", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__member_no", "user__nickname")
    actions = ["adjust_points"]

    @admin.action(description=_("调整积分（需填写原因）"), permissions=["operator"])
    def adjust_points(self, request, queryset):
        form = PointsAdjustForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for account in queryset.select_related("user"):
                try:
                    services.points_adjust(
                        user=account.user,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        operator=request.user,
                        idempotency_key=f"adjust:{uuid.uuid4().hex}",
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"{account.user}: {exc.message}", messages.ERROR)
            self.message_user(request, _("已调整"), messages.SUCCESS)
            return None
        return _action_page(self, request, title=_("调整积分"), form=form, objects=queryset)


@admin.register(PointsEntry)
class PointsEntryAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "amount", "balance_after", "reason")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__member_no", "reason", "idempotency_key")
    date_hierarchy = "created_at"


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
            "title",
            "description",
            "item_type",
            "item_id",
            "points_price",
            "stock",
            "per_member_limit",
            "sort_order",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (code, f"{kind.label or code} ({code})") for code, kind in sorted(items.registered().items())
        ]
        self.fields["item_type"] = forms.ChoiceField(label=_("商品类型"), choices=choices)

    def clean(self):
        data = super().clean()
        item_type, item_id = data.get("item_type"), (data.get("item_id") or "").strip()
        if not item_type or not item_id:
            return data
        kind = items.get(item_type)
        if kind.integer_ids and not item_id.isdigit():
            self.add_error("item_id", _("该类型的商品ID是数字"))
        if item_type == "membership_days":
            from members.items import parse_days_item

            try:
                parse_days_item(item_id)
            except ApplicationError as exc:
                self.add_error("item_id", exc.message)
        data["item_id"] = item_id
        return data


@admin.register(Reward)
class RewardAdmin(AuditedChangesMixin, admin.ModelAdmin):
    form = RewardForm
    list_display = (
        "title",
        item_type_column,
        "item_id",
        "points_price",
        "stock",
        "redeemed_count",
        "is_active",
        "sort_order",
    )
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active", ItemTypeFilter)
    search_fields = ("title",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.redemptions.exists()


@admin.register(Redemption)
class RedemptionAdmin(RepScopedMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "reward", "points", "order_link")
    list_filter = ("reward",)
    list_select_related = ("user", "reward", "order")
    search_fields = ("user__username", "user__member_no", "reward__title", "order__order_no")
    date_hierarchy = "created_at"

    @admin.display(description=_("订单"))
    def order_link(self, obj: Redemption):
        return admin_link(obj.order, obj.order.order_no)
