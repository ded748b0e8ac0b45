"""Operator screens for points (balances, history, an operator's adjustment with a reason) and the
points mall (rewards, audited; redemptions)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, admin_link
from core.errors import ApplicationError
from members.admin.common import OperatorActionsMixin, RepScopedMixin, action_page
from members.memberships.selectors import parse_days_item
from members.models import PointsAccount, PointsEntry, Redemption, Reward
from members.points.services import points_adjust
from payments import items
from payments.admin_labels import ItemTypeFilter, item_type_column


class PointsAdjustForm(forms.Form):
    amount = forms.IntegerField(label=_("积分（负数为扣减）"))
    reason = forms.CharField(label=_("原因"), max_length=200)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("不能为 0"))
        return amount


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
                    points_adjust(
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
        return action_page(self, request, title=_("调整积分"), form=form, objects=queryset)


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
