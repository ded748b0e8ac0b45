"""Admin: sales leads (assigned and ended through `referrals.sales_credit`; reps see their own) and
supervisors' teams."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin
from core.errors import ApplicationError
from members.onboarding import selectors as onboarding_selectors
from referrals import (
    sales_credit,
)
from referrals.models import (
    SalesLead,
    SalesTeam,
    SalesTeamMember,
)


class SalesLeadAddForm(forms.ModelForm):
    phone = forms.CharField(label=_("手机号"), required=False, max_length=32)

    class Meta:
        model = SalesLead
        fields = ["user", "phone", "rep", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = onboarding_selectors.active_sales_reps().order_by("pk")

    def clean(self):
        data = super().clean()
        rep = data.get("rep")
        if rep is not None:
            try:
                sales_credit.sales_lead_check(rep=rep, user=data.get("user"), phone=data.get("phone", ""))
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(SalesLead)
class SalesLeadAdmin(admin.ModelAdmin):
    """Operators give a prospective member to a rep; that rep is credited with the member's first sale."""

    list_display = ("user", "masked_phone", "rep", "assigned_by", "assigned_at", "ended_at", "end_reason")
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__nickname", "rep__username", "rep__nickname")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "rep", "assigned_by")
    date_hierarchy = "assigned_at"
    actions = ["end_leads"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if onboarding_selectors.rep_scoped(request.user):
            queryset = queryset.filter(rep=request.user)
        return queryset

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SalesLeadAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "phone", "rep", "note"]
        return [
            "user",
            "masked_phone",
            "rep",
            "note",
            "assigned_by",
            "assigned_at",
            "ended_at",
            "ended_by",
            "end_reason",
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return obj.masked_phone or "-"

    def save_model(self, request, obj, form, change):
        if change:
            return
        lead = sales_credit.sales_lead_assign(
            rep=form.cleaned_data["rep"],
            user=form.cleaned_data.get("user"),
            phone=form.cleaned_data.get("phone", ""),
            note=form.cleaned_data.get("note", ""),
            actor=request.user,
        )
        obj.pk = lead.pk

    @admin.action(description=_("结束所选销售线索"), permissions=["change"])
    def end_leads(self, request, queryset):
        for lead in queryset.filter(ended_at__isnull=True):
            sales_credit.sales_lead_end(lead=lead, actor=request.user, reason="operator")


class SalesTeamMemberForm(forms.ModelForm):
    class Meta:
        model = SalesTeamMember
        fields = ["rep"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = onboarding_selectors.active_sales_reps().order_by("pk")


class SalesTeamMemberInline(admin.TabularInline):
    model = SalesTeamMember
    form = SalesTeamMemberForm
    extra = 1


@admin.register(SalesTeam)
class SalesTeamAdmin(AuditedChangesMixin, admin.ModelAdmin):
    """A supervisor's team and override rate (团队管理分润, basis points of the team's month volume)."""

    list_display = ("name", "supervisor", "override_bp", "is_active", "reps")
    list_select_related = ("supervisor",)
    autocomplete_fields = ("supervisor",)
    inlines = [SalesTeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reps_count=Count("members"))

    @admin.display(description=_("成员数"), ordering="reps_count")
    def reps(self, obj):
        return obj.reps_count
