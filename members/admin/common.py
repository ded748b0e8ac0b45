"""What the members admin screens share: scoping rows to a rep's assigned members, the operators'
action permission, the tier and expiry filters, and the page an action's form is shown on."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin import helpers
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from members.models import Membership, MembershipTier
from members.onboarding.selectors import assigned_member_ids, rep_scoped


class RepScopedMixin:
    """Rows of members a sales or service rep is not assigned to are not shown to that rep."""

    member_path = "user"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if rep_scoped(request.user):
            queryset = queryset.filter(**{f"{self.member_path}__in": assigned_member_ids(request.user)})
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


def action_page(admin_obj, request, *, title: str, form, objects, description: str = ""):
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": objects,
        "description": description,
        "opts": admin_obj.model._meta,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
    }
    return render(request, "admin/members/action_form.html", context)
