"""Coupons in admin: an operator makes and edits a coupon (its figures: issued, held, used), shares its
claim link or public code, issues it to selected members (an action on the members list), and revokes
copies sent by mistake (recorded: who, when). Copies and redemptions are records: never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from core.admin_tools import admin_link
from core.errors import ApplicationError
from growth.coupons import issuing, rules, selectors
from growth.models import Coupon, CouponRedemption, MemberCoupon
from members.admin.common import action_page
from members.models import MembershipTier, User
from payments import items


def _item_type_choices() -> list[tuple[str, str]]:
    return [
        (code, items.label_of(code))
        for code in sorted(items.registered())
        if code not in rules.NOT_COUPONABLE
    ]


def _tier_choices() -> list[tuple[str, str]]:
    return [(tier.code, tier.name) for tier in MembershipTier.objects.order_by("rank")]


class CouponForm(forms.ModelForm):
    """Scope as choices and a list of items (one `type:id` per line); the kind's own amount required."""

    item_types = forms.MultipleChoiceField(
        label=_("适用商品类型"),
        choices=_item_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    items = forms.CharField(
        label=_("适用商品"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个：类型:编号，如 course:12、camp:3、membership:VIP；留空为上面类型的全部商品"),
    )
    tiers = forms.MultipleChoiceField(
        label=_("适用会员等级"), choices=_tier_choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Coupon
        fields = (
            "name",
            "kind",
            "amount_off_fen",
            "percent_off_bp",
            "cap_fen",
            "min_spend_fen",
            "item_types",
            "items",
            "tiers",
            "starts_at",
            "ends_at",
            "valid_days",
            "total_limit",
            "issue_limit",
            "per_member_limit",
            "stackable",
            "code",
            "claim_enabled",
            "auto_issue_on",
            "is_active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["items"] = "\n".join(self.instance.items)

    def clean_items(self) -> list[str]:
        refs = []
        kinds = set(items.registered())
        for line in (self.cleaned_data.get("items") or "").split():
            item_type, _sep, item_id = line.strip().partition(":")
            if not item_id or item_type not in kinds or item_type in rules.NOT_COUPONABLE:
                raise forms.ValidationError(_("无法识别：%(line)s（格式 类型:编号）") % {"line": line})
            refs.append(f"{item_type}:{item_id}")
        return refs

    def clean_code(self) -> str | None:
        code = rules.normalize(self.cleaned_data.get("code") or "")
        return code or None  # blank is "issue only" (NULL: many coupons may have no code)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Coupon.Kind.AMOUNT and not data.get("amount_off_fen"):
            self.add_error("amount_off_fen", _("满减券须填写减免金额"))
        if kind == Coupon.Kind.PERCENT and not 0 < (data.get("percent_off_bp") or 0) <= 10_000:
            self.add_error("percent_off_bp", _("折扣券的比例须在 1 到 10000 基点之间"))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and starts >= ends:
            self.add_error("ends_at", _("失效时间须晚于生效时间"))
        return data


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = ("name", "value", "code", "issued", "held", "used", "window", "is_active", "created_at")
    list_filter = ("is_active", "kind", "auto_issue_on")
    search_fields = ("name", "code")
    readonly_fields = ("claim_link", "figures", "created_by", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coupon]:
        state = MemberCoupon.State
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_issued=Count("copies", filter=~Q(copies__state=state.REVOKED)),
                n_held=Count("copies", filter=Q(copies__state=state.HELD)),
                n_used=Count("copies", filter=Q(copies__state=state.USED)),
            )
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*CouponForm.Meta.fields, *(self.readonly_fields if obj is not None else ()))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # copies and orders point at it: stop it (启用) instead

    def save_model(self, request: HttpRequest, obj: Coupon, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]  # admin views: a signed-in staff user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("面值"))
    def value(self, obj: Coupon) -> str:
        return selectors.value_text(obj)

    @admin.display(description=_("已发放"), ordering="n_issued")
    def issued(self, obj: Coupon) -> int:
        return getattr(obj, "n_issued", 0)

    @admin.display(description=_("占用中"), ordering="n_held")
    def held(self, obj: Coupon) -> int:
        return getattr(obj, "n_held", 0)

    @admin.display(description=_("已使用"), ordering="n_used")
    def used(self, obj: Coupon) -> int:
        return getattr(obj, "n_used", 0)

    @admin.display(description=_("有效期"))
    def window(self, obj: Coupon) -> str:
        if obj.valid_days:
            return str(_("领取后 %(days)s 天") % {"days": obj.valid_days})
        if obj.ends_at:
            return timezone.localtime(obj.ends_at).strftime("%Y-%m-%d %H:%M")
        return "-"

    @admin.display(description=_("领取链接"))
    def claim_link(self, obj: Coupon) -> str:
        if not obj.pk:
            return "-"
        url = settings.SITE_URL + reverse("growth:coupon_claim", args=[obj.claim_token])
        return url if obj.claim_enabled else str(_("（未开放）")) + url

    @admin.display(description=_("使用情况"))
    def figures(self, obj: Coupon) -> str:
        orders = selectors.coupon_orders(obj)
        given = CouponRedemption.objects.filter(coupon=obj).values_list("discount_fen", flat=True)
        return str(
            _(
                "已发放 %(issued)s，占用中 %(held)s，已使用 %(used)s；成交订单 %(orders)s 笔，共抵扣 %(off)s 分"
            )
            % {
                "issued": getattr(obj, "n_issued", 0),
                "held": getattr(obj, "n_held", 0),
                "used": getattr(obj, "n_used", 0),
                "orders": orders.count(),
                "off": sum(given),
            }
        )


@admin.register(MemberCoupon)
class MemberCouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "coupon",
        "user",
        "state_display",
        "source",
        "valid_until",
        "issued_at",
        "revoked_by",
    )
    list_filter = ("state", "source", "coupon")
    search_fields = ("code", "user__username", "user__nickname", "user__member_no", "coupon__name")
    list_select_related = ("coupon", "user", "revoked_by")
    actions = ["revoke_selected"]
    fields = (
        "code",
        "coupon",
        "user",
        "state_display",
        "source",
        "source_key",
        "valid_from",
        "valid_until",
        "held_order",
        "issued_by",
        "issued_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued by claims, codes, the members action, campaigns and events

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("状态"))
    def state_display(self, obj: MemberCoupon) -> str:
        return str(dict(MemberCoupon.State.choices)[obj.state_at(timezone.now())])

    @admin.display(description=_("占用订单"))
    def held_order(self, obj: MemberCoupon) -> str:
        return admin_link(obj.held_by) if obj.held_by_id else "-"

    @admin.action(description=_("作废所选的未使用优惠券"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[MemberCoupon]) -> None:
        ended = sum(issuing.member_coupon_revoke(copy=copy, operator=request.user) for copy in queryset)
        self.message_user(request, _("已作废 %(n)s 张未使用的优惠券") % {"n": ended}, messages.SUCCESS)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    list_display = ("order_link", "coupon", "member_coupon", "discount_fen", "created_at", "returned_at")
    list_filter = ("coupon",)
    search_fields = ("order__order_no", "member_coupon__code", "coupon__name")
    list_select_related = ("order", "coupon", "member_coupon")
    fields = ("order_link", "coupon", "member_coupon", "discount_fen", "created_at", "returned_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("订单"))
    def order_link(self, obj: CouponRedemption) -> str:
        return admin_link(obj.order)


# ---- issuing to selected members: an action on the members list -------------------------------------------


class IssueForm(forms.Form):
    coupon = forms.ModelChoiceField(label=_("优惠券"), queryset=Coupon.objects.filter(is_active=True))


def may_issue(request: HttpRequest) -> bool:
    return roles.has_role(request.user, roles.OPERATOR) and request.user.has_perm("growth.add_membercoupon")


@admin.action(description=_("发放优惠券"), permissions=["issue_coupon"])
def issue_coupon(model_admin: Any, request: HttpRequest, queryset: QuerySet[User]) -> Any:
    """A form first (which coupon), then `coupon_issue` for the selected members, once per member and
    day (re-sending the form the same day issues nothing twice)."""
    if not may_issue(request):
        model_admin.message_user(request, _("没有发放优惠券的权限"), messages.ERROR)
        return None
    form = IssueForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        coupon = form.cleaned_data["coupon"]
        try:
            result = issuing.coupon_issue(
                coupon=coupon,
                users=list(queryset),
                source=MemberCoupon.Source.OPERATOR,
                actor=request.user,
                source_key=f"operator-{timezone.localdate():%Y%m%d}",
            )
        except ApplicationError as exc:  # the coupon ended meanwhile: said to the operator
            model_admin.message_user(request, exc.message, messages.ERROR)
            return None
        model_admin.message_user(
            request,
            _("已发放 %(n)s 张；今天已发过 %(already)s 人，超出限领 %(refused)s 人")
            % {"n": len(result.issued), "already": result.already, "refused": result.refused},
            messages.SUCCESS,
        )
        return None
    return action_page(model_admin, request, title=str(_("发放优惠券")), form=form, objects=queryset)


def register_member_action() -> None:
    """Offer `issue_coupon` on the members list (members' admin is below growth and does not know it)."""
    user_admin = admin.site.get_model_admin(User)
    actions = list(user_admin.actions or ())
    if issue_coupon not in actions:
        user_admin.actions = [*actions, issue_coupon]
    # What `permissions=["issue_coupon"]` asks the members admin: only operators see the action.
    user_admin.has_issue_coupon_permission = may_issue  # type: ignore[attr-defined]


register_member_action()
