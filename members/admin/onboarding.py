"""Operator screens for onboarding (the funnel, the stuck list, reassigning reps, marking steps) and the
service and big WeChat groups. Reps see only the members and groups assigned to them."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from core.errors import ApplicationError
from members.admin.common import OperatorActionsMixin, action_page
from members.models import MemberProfile, Onboarding, ServiceGroup, ServiceGroupStaff, User
from members.onboarding import selectors, services


def _reps(role: str):
    return User.objects.filter(is_active=True, groups__name=role).order_by("pk").distinct()


class FunnelFilterForm(forms.Form):
    """The stuck list's filters (query string): more than `days` days at `stage` (blank: any step)."""

    DEFAULT_DAYS = 3

    days = forms.IntegerField(label=_("天数"), min_value=0, required=False)
    stage = forms.ChoiceField(label=_("步骤"), choices=[("", "-"), *Onboarding.Stage.choices], required=False)


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
        form = FunnelFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():  # the form's errors, and the default list
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        days = filters["days"] if filters.get("days") is not None else FunnelFilterForm.DEFAULT_DAYS
        stage = filters.get("stage", "")
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
        return action_page(self, request, title=_("重新分配顾问"), form=form, objects=queryset)

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
