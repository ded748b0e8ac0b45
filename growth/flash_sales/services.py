"""Flash sales (限时特价): an operator sets a sale for an item (admin), changes or stops it.

A sale is for one item of the registry (`pricing.SALE_ITEM_TYPES`) at a price below the item's list
price and at least 1 fen, during a window, for a stock of units, at most `per_member_limit` units per
member. One item has at most one sale at a time (overlapping windows are refused), so the price a
member sees never depends on which of two sales was read. The item's title and list price are kept
on the sale when it is saved: lists and the API show them without pricing every item again.

How the sale prices an order is `growth.flash_sales.pricing`; how its units are held by orders is
`growth.flash_sales.holds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from growth.flash_sales.pricing import SALE_ITEM_TYPES
from growth.models import FlashSale
from payments import items


@dataclass(frozen=True)
class SaleItem:
    title: str
    list_price_fen: int


def field_error(code: str, field: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


def sale_item(*, item_type: str, item_id: str, operator) -> SaleItem:
    """The item's title and list price as a buyer would be quoted; ApplicationError for an item that
    cannot be sold for money now."""
    if item_type not in SALE_ITEM_TYPES:
        raise field_error(
            "item_not_on_sale", "item_type", _("限时特价只能用于会员、课程、圈子、线下活动和训练营")
        )
    kind = items.get(item_type)
    try:
        quote = kind.quote(user=AnonymousUser(), item_id=item_id)
    except items.ItemUnavailable as exc:
        raise field_error(exc.code, "item_id", exc.message) from None
    except (ApplicationError, AttributeError, TypeError):
        # Quoted for a signed-in person only: ask as the operator.
        try:
            quote = kind.quote(user=operator, item_id=item_id)
        except ApplicationError as exc:
            raise field_error(exc.code, "item_id", exc.message) from None
    return SaleItem(title=quote.title, list_price_fen=quote.list_price_fen)


def terms_check(
    *,
    list_price_fen: int,
    sale_price_fen: int,
    starts_at: datetime,
    ends_at: datetime,
    stock: int,
    per_member_limit: int,
    taken: int = 0,
) -> None:
    """The sale's own numbers: a price below the list price and at least 1 fen, a window, a stock no
    smaller than the units already taken (`taken`), a limit of at least one."""
    if sale_price_fen < 1:
        raise field_error("sale_price_invalid", "sale_price_fen", _("特价至少 1 分"))
    if sale_price_fen >= list_price_fen:
        raise field_error(
            "sale_price_not_below_list",
            "sale_price_fen",
            _("特价须低于原价 %(price)s 分") % {"price": list_price_fen},
        )
    if ends_at <= starts_at:
        raise field_error("sale_window_invalid", "ends_at", _("结束时间须晚于开始时间"))
    if stock < max(1, taken):
        raise field_error(
            "sale_stock_invalid",
            "stock",
            _("库存至少为 %(n)s（已售与待支付占用的件数）") % {"n": max(1, taken)},
        )
    if per_member_limit < 1:
        raise field_error("sale_limit_invalid", "per_member_limit", _("每人限购至少 1 件"))


def sale_check(
    *,
    item_type: str,
    item_id: str,
    sale_price_fen: int,
    starts_at: datetime,
    ends_at: datetime,
    stock: int,
    per_member_limit: int,
    operator,
    sale: FlashSale | None = None,
) -> SaleItem:
    """Whether an active sale may be saved as given (the admin form asks first): the item, or an
    ApplicationError naming the field. `sale`: the sale being changed (its units taken stay valid)."""
    item_id = str(item_id).strip()
    item = sale_item(item_type=item_type, item_id=item_id, operator=operator)
    terms_check(
        list_price_fen=item.list_price_fen,
        sale_price_fen=sale_price_fen,
        starts_at=starts_at,
        ends_at=ends_at,
        stock=stock,
        per_member_limit=per_member_limit,
        taken=(sale.held + sale.sold) if sale is not None else 0,
    )
    overlapping = FlashSale.objects.filter(
        item_type=item_type, item_id=item_id, is_active=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if sale is not None:
        overlapping = overlapping.exclude(pk=sale.pk)
    other = overlapping.first()
    if other is not None:
        raise field_error(
            "sale_overlaps", "starts_at", _("该商品在这段时间已有限时特价「%(name)s」") % {"name": other.name}
        )
    return item


SALE_FIELDS = ("name", "sale_price_fen", "starts_at", "ends_at", "stock", "per_member_limit", "is_active")


def sale_create(
    *,
    name: str,
    item_type: str,
    item_id: str,
    sale_price_fen: int,
    starts_at: datetime,
    ends_at: datetime,
    stock: int,
    per_member_limit: int = 1,
    is_active: bool = True,
    created_by,
) -> FlashSale:
    """A new sale, checked as `sale_check` says and recorded in the audit log."""
    name = (name or "").strip()
    if not name:
        raise field_error("sale_name_required", "name", _("请填写活动名称"))
    item_id = str(item_id).strip()
    with transaction.atomic():
        item = sale_check(
            item_type=item_type,
            item_id=item_id,
            sale_price_fen=sale_price_fen,
            starts_at=starts_at,
            ends_at=ends_at,
            stock=stock,
            per_member_limit=per_member_limit,
            operator=created_by,
        )
        sale = FlashSale.objects.create(
            name=name[:64],
            item_type=item_type,
            item_id=item_id,
            item_title=item.title[:200],
            list_price_fen=item.list_price_fen,
            sale_price_fen=sale_price_fen,
            starts_at=starts_at,
            ends_at=ends_at,
            stock=stock,
            per_member_limit=per_member_limit,
            is_active=is_active,
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )
        audit_record(
            actor=created_by,
            action="growth.flash_sale_create",
            target=sale,
            summary=f"限时特价「{sale.name}」：{sale.item_title} {sale_price_fen} 分 × {stock}",
            item_type=item_type,
            item_id=item_id,
            sale_price_fen=sale_price_fen,
            stock=stock,
        )
    return sale


def sale_update_check(*, sale: FlashSale, operator, values: dict) -> SaleItem | None:
    """Whether `sale` may take `values` (every field of SALE_FIELDS): the item priced again when the
    sale stays active, None when it is stopped — stopping is always possible, even once its item is no
    longer sold."""
    if not (values["name"] or "").strip():
        raise field_error("sale_name_required", "name", _("请填写活动名称"))
    numbers = {name: values[name] for name in SALE_FIELDS if name not in ("name", "is_active")}
    if values["is_active"]:
        return sale_check(
            item_type=sale.item_type, item_id=sale.item_id, operator=operator, sale=sale, **numbers
        )
    terms_check(list_price_fen=sale.list_price_fen, taken=sale.held + sale.sold, **numbers)
    return None


def sale_update(*, sale: FlashSale, operator, **changes) -> FlashSale:
    """Change a sale's name, price, window, stock, limit or active flag (its item stays). Orders
    already made keep their price; the stock never drops below the units already taken."""
    unknown = set(changes) - set(SALE_FIELDS)
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    with transaction.atomic():
        sale = FlashSale.objects.select_for_update().get(pk=sale.pk)  # units taken cannot move meanwhile
        values = {name: changes.get(name, getattr(sale, name)) for name in SALE_FIELDS}
        item = sale_update_check(sale=sale, operator=operator, values=values)
        values["name"] = values["name"].strip()[:64]
        for field, value in values.items():
            setattr(sale, field, value)
        if item is not None:  # the title and list price as the item is sold now
            sale.item_title, sale.list_price_fen = item.title[:200], item.list_price_fen
        sale.save(update_fields=[*SALE_FIELDS, "item_title", "list_price_fen", "updated_at"])
        audit_record(
            actor=operator,
            action="growth.flash_sale_update",
            target=sale,
            summary=f"修改限时特价「{sale.name}」",
            **{name: str(value) for name, value in changes.items()},
        )
    return sale
