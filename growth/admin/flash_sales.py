"""Flash sales in admin: an operator sets a sale for an item (checked as `growth.flash_sales.services`
would make it: the item exists and is sold now, the price is below its list price), changes its
window, price or stock, stops it, and reads its figures (units held by pending orders, sold, left).
The holds are records of orders: read-only. Nothing is deleted; a sale is stopped instead."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.admin_tools import admin_link, label_filter
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from growth.flash_sales import services
from growth.flash_sales.pricing import SALE_ITEM_TYPES
from growth.models import FlashSale, FlashSaleHold
from payments import items


def _item_type_choices() -> list[tuple[str, str]]:
    return [(code, items.label_of(code)) for code in SALE_ITEM_TYPES]


def _add_errors(form: forms.BaseForm, exc: ApplicationError) -> None:
    """The service's refusal, said on the field it names."""
    for field, errors in (exc.fields or {"item_id": [exc.message]}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class ServiceCheckedForm(forms.ModelForm):
    """A form whose rules are the service's (`clean` asks it); the model's own full_clean is skipped
    because it would say the same refusals again in generic words (the database constraints stay)."""

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def _post_clean(self) -> None:
        pass


class FlashSaleAddForm(ServiceCheckedForm):
    item_type = forms.ChoiceField(label=_("商品类型"), choices=_item_type_choices)

    class Meta:
        model = FlashSale
        fields = (
            "name",
            "item_type",
            "item_id",
            "sale_price_fen",
            "starts_at",
            "ends_at",
            "stock",
            "per_member_limit",
            "is_active",
        )
        help_texts = {"item_id": _("会员填等级代码（如 VIP），训练营填营期编号，其余填编号")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        wanted = (
            "item_type",
            "item_id",
            "sale_price_fen",
            "starts_at",
            "ends_at",
            "stock",
            "per_member_limit",
        )
        if all(data.get(name) is not None for name in wanted):  # the rest are already field errors
            try:
                item = services.sale_check(
                    **{name: data[name] for name in wanted}, operator=getattr(self.request, "user", None)
                )
            except ApplicationError as exc:
                _add_errors(self, exc)
            else:
                self.instance.item_title, self.instance.list_price_fen = item.title, item.list_price_fen
        return data


class FlashSaleChangeForm(ServiceCheckedForm):
    class Meta:
        model = FlashSale
        fields = services.SALE_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(data.get(name) is not None for name in services.SALE_FIELDS):
            sale = FlashSale.objects.get(pk=self.instance.pk)  # the stored figures, not the form's copy
            try:
                services.sale_update_check(
                    sale=sale, operator=getattr(self.request, "user", None), values=dict(data)
                )
            except ApplicationError as exc:
                _add_errors(self, exc)
        return data


@admin.register(FlashSale)
class FlashSaleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "item_title",
        "sale_price",
        "list_price",
        "starts_at",
        "ends_at",
        "stock",
        "held",
        "sold",
        "left_units",
        "state",
    )
    list_filter = (
        label_filter("item_type", lambda: dict(_item_type_choices()), title=_("商品类型")),
        "is_active",
    )
    search_fields = ("name", "item_title")
    date_hierarchy = "starts_at"
    change_readonly = (
        "item_type_label",
        "item_id",
        "item_title",
        "list_price",
        "figures",
        "recent_orders",
        "created_by",
        "created_at",
    )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = FlashSaleAddForm if obj is None else FlashSaleChangeForm
        form = super().get_form(request, obj, change, **kwargs)

        class WithRequest(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, request=request, **kw)

        return WithRequest

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return FlashSaleAddForm.Meta.fields
        return (*self.change_readonly[:4], *services.SALE_FIELDS, *self.change_readonly[4:])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            return (*self.change_readonly, *services.SALE_FIELDS)
        return self.change_readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders point at it; a sale is stopped (启用 off), not deleted

    def save_model(self, request: HttpRequest, obj: FlashSale, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.sale_update(
                sale=obj, operator=request.user, **{name: data[name] for name in services.SALE_FIELDS}
            )
            return
        sale = services.sale_create(
            name=data["name"],
            item_type=data["item_type"],
            item_id=data["item_id"],
            sale_price_fen=data["sale_price_fen"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            stock=data["stock"],
            per_member_limit=data["per_member_limit"],
            is_active=data["is_active"],
            created_by=request.user,
        )
        # The add view's message, log entry and redirect read `obj`: give it the saved sale's values.
        for field in FlashSale._meta.concrete_fields:
            setattr(obj, field.attname, getattr(sale, field.attname))

    @admin.display(description=_("商品类型"), ordering="item_type")
    def item_type_label(self, obj: FlashSale) -> str:
        return items.label_of(obj.item_type)

    @admin.display(description=_("特价"), ordering="sale_price_fen")
    def sale_price(self, obj: FlashSale) -> str:
        return fen_to_yuan_text(obj.sale_price_fen)

    @admin.display(description=_("原价"), ordering="list_price_fen")
    def list_price(self, obj: FlashSale) -> str:
        return fen_to_yuan_text(obj.list_price_fen)

    @admin.display(description=_("剩余"))
    def left_units(self, obj: FlashSale) -> int:
        return obj.left

    @admin.display(description=_("状态"))
    def state(self, obj: FlashSale) -> str:
        now = timezone.now()
        if not obj.is_active:
            return str(_("已停用"))
        if now < obj.starts_at:
            return str(_("未开始"))
        if now >= obj.ends_at:
            return str(_("已结束"))
        return str(_("进行中")) if obj.left else str(_("已抢光"))

    @admin.display(description=_("件数"))
    def figures(self, obj: FlashSale) -> str:
        return str(
            _("库存 %(stock)s，待支付占用 %(held)s，已售 %(sold)s，剩余 %(left)s")
            % {"stock": obj.stock, "held": obj.held, "sold": obj.sold, "left": obj.left}
        )

    @admin.display(description=_("最近的订单"))
    def recent_orders(self, obj: FlashSale) -> str:
        """The last 20 orders that took a unit, with what became of each (all: 限时特价占用)."""
        holds = obj.holds.select_related("order").order_by("-created_at")[:20]
        states = dict(FlashSaleHold.State.choices)
        return (
            format_html_join(
                mark_safe("<br>"),
                "{} · {}",
                ((admin_link(hold.order), states[hold.state]) for hold in holds),
            )
            or "-"
        )


@admin.register(FlashSaleHold)
class FlashSaleHoldAdmin(admin.ModelAdmin):
    """Which order took which unit, and what became of it (read-only: holds move with their orders)."""

    list_display = ("sale", "order_link", "user", "state", "created_at", "ended_at")
    list_filter = ("state", "sale")
    search_fields = ("order__order_no", "user__username", "user__nickname", "sale__name")
    list_select_related = ("sale", "order", "user")
    fields = ("sale", "order_link", "user", "state", "created_at", "ended_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("订单"))
    def order_link(self, obj: FlashSaleHold) -> str:
        return admin_link(obj.order)
