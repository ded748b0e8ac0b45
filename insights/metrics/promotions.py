"""Promotions: what each coupon, redeem code batch, flash sale and campaign brought in during the period.

Every figure is the dashboard's own definition applied to the orders a promotion is linked to
(revenue.PAID, revenue.REFUNDED, commissions net of reversals, the "new paid member" of the revenue
section), so a promotion's GMV adds up with the revenue section's and nothing is counted twice inside one
promotion. How an order is linked to a promotion is the promotion's rule, kept beside its model in the
growth app: a redeemed code's order, a coupon's redemption, a flash sale's sold unit, and for a
campaign the orders its recipients paid within the attribution window after delivery.

Each kind is read with a fixed number of grouped statements, whatever the number of promotions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy

from growth.campaigns.selectors import ATTRIBUTION_WINDOW
from growth.models import (
    Campaign,
    CampaignDelivery,
    Coupon,
    CouponRedemption,
    FlashSale,
    FlashSaleHold,
    RedeemCode,
    RedeemCodeBatch,
)
from insights.metrics.base import FEN, INT, TEXT, Column, Table
from insights.metrics.revenue import sum0
from insights.periods import Period
from members.models import MembershipGrant
from payments.models import Refund
from referrals.models import Commission

if TYPE_CHECKING:  # pragma: no cover
    from django_stubs_ext import StrOrPromise

DEF_PROMOTION = gettext_lazy(
    "订单：支付时间在周期内的订单数（含 0 元兑换订单）；GMV：其中金额大于 0 的实付合计；优惠：这些订单的"
    "原价与实付之差；退款：周期内退款成功的金额（不含自动退款）；新会员：因这些订单第一次开通会员且未被撤销"
    "的人数；佣金：这些订单产生的推广佣金（扣除冲回，不含未发放）。"
)


@dataclass(frozen=True)
class Link:
    """How one kind of promotion reaches its orders: `rows` (one row per promotion–order pair, or per
    recipient for campaigns), `group` (the promotion's id field on those rows), `order` (the path from a
    row to the Order) and `window` (extra conditions on that order, e.g. a campaign's attribution days)."""

    rows: QuerySet
    group: str
    order: str
    window: Q = Q()


def _figures(link: Link, p: Period) -> dict[int, dict[str, int]]:
    """Per promotion id: orders, gmv, discount, refunds, new_members, commission (four statements)."""
    o = link.order + "__"
    paid = Q(**{o + "paid_at__gte": p.start_at, o + "paid_at__lt": p.end_at}) & link.window
    figures: dict[int, dict[str, int]] = {}

    def add(rows, *names: str) -> None:
        for row in rows:
            entry = figures.setdefault(
                row[link.group],
                {"orders": 0, "gmv": 0, "discount": 0, "refunds": 0, "new_members": 0, "commission": 0},
            )
            for name in names:
                entry[name] += row[name] or 0

    add(
        link.rows.values(link.group).annotate(
            orders=Count(link.order, filter=paid, distinct=True),
            gmv=sum0(o + "amount_fen", paid & Q(**{o + "amount_fen__gt": 0})),
            discount=sum0(o + "discount_fen", paid),
        ),
        "orders",
        "gmv",
        "discount",
    )
    r = o + "refunds__"
    refunded = (
        Q(**{r + "status": Refund.Status.SUCCEEDED, r + "completed_at__gte": p.start_at})
        & Q(**{r + "completed_at__lt": p.end_at})
        & ~Q(**{r + "kind": Refund.Kind.AUTO})
        & link.window
    )
    add(link.rows.values(link.group).annotate(refunds=sum0(r + "amount_fen", refunded)), "refunds")
    c = o + "commissions__"
    add(
        link.rows.values(link.group).annotate(
            commission=sum0(
                F(c + "amount_fen") - F(c + "reversed_fen"),
                paid & ~Q(**{c + "status": Commission.Status.SKIPPED}),
            )
        ),
        "commission",
    )
    # The revenue section's "new paid member": a start of membership with no earlier one, not revoked.
    g = o + "membership_grant__"
    earlier = MembershipGrant.objects.filter(
        user=OuterRef(g + "user"),
        kind__in=[MembershipGrant.Kind.START, MembershipGrant.Kind.RENEW, MembershipGrant.Kind.UPGRADE],
        created_at__lt=OuterRef(g + "created_at"),
    )
    add(
        link.rows.filter(paid, **{g + "kind": MembershipGrant.Kind.START, g + "revoked_at__isnull": True})
        .annotate(returning=Exists(earlier))
        .filter(returning=False)
        .values(link.group)
        .annotate(new_members=Count(g + "user", distinct=True)),
        "new_members",
    )
    return figures


COLUMNS = [
    Column("orders", gettext_lazy("订单"), INT),
    Column("gmv", gettext_lazy("GMV"), FEN),
    Column("discount", gettext_lazy("优惠"), FEN),
    Column("refunds", gettext_lazy("退款"), FEN),
    Column("new_members", gettext_lazy("新会员"), INT),
    Column("commission", gettext_lazy("佣金"), FEN),
]


@dataclass(frozen=True)
class PromotionKind:
    """One table of the section: which promotions (values() rows with "id" and the `describe` keys,
    newest first) and how they reach their orders."""

    key: str
    title: StrOrPromise
    describe: list[Column]
    promotions: Callable[[], QuerySet]
    link: Callable[[], Link]
    note: StrOrPromise = ""


# At most this many promotions per table, the newest: an older one has its own admin page.
ROWS = 50
NO_FIGURES = {"orders": 0, "gmv": 0, "discount": 0, "refunds": 0, "new_members": 0, "commission": 0}


def promotion_table(kind: PromotionKind, p: Period) -> Table:
    promotions = list(kind.promotions()[:ROWS])
    figures = _figures(kind.link(), p)
    rows = [{**promotion, **figures.get(promotion["id"], NO_FIGURES)} for promotion in promotions]
    return Table(kind.key, kind.title, DEF_PROMOTION, kind.describe + COLUMNS, rows, note=kind.note)


def promotion_kinds() -> list[PromotionKind]:
    return [
        PromotionKind(
            key="promotion_coupons",
            title=gettext_lazy("优惠券"),
            describe=[
                Column("name", gettext_lazy("优惠券"), TEXT),
                Column("code", gettext_lazy("券码"), TEXT),
            ],
            promotions=lambda: Coupon.objects.order_by("-created_at", "-id").values("id", "name", "code"),
            # growth.coupons.selectors.coupon_orders: the paid orders a copy was used on.
            link=lambda: Link(CouponRedemption.objects.all(), group="coupon_id", order="order"),
        ),
        PromotionKind(
            key="promotion_redeem_batches",
            title=gettext_lazy("兑换码批次"),
            describe=[
                Column("name", gettext_lazy("批次"), TEXT),
                Column("item_title", gettext_lazy("商品"), TEXT),
            ],
            promotions=lambda: RedeemCodeBatch.objects.order_by("-created_at", "-id").values(
                "id", "name", "item_title"
            ),
            # A code's order is the zero-amount order its redemption wrote.
            link=lambda: Link(
                RedeemCode.objects.filter(order__isnull=False), group="batch_id", order="order"
            ),
            note=gettext_lazy("兑换订单为 0 元：GMV 为 0，优惠即所兑换商品的原价。"),
        ),
        PromotionKind(
            key="promotion_flash_sales",
            title=gettext_lazy("限时特价"),
            describe=[
                Column("name", gettext_lazy("活动"), TEXT),
                Column("item_title", gettext_lazy("商品"), TEXT),
            ],
            promotions=lambda: FlashSale.objects.order_by("-created_at", "-id").values(
                "id", "name", "item_title"
            ),
            # growth.flash_sales.selectors.flash_sale_orders: every order that took a unit (only the paid
            # ones count as orders; a unit held by an order that closed unpaid brought nothing).
            link=lambda: Link(FlashSaleHold.objects.all(), group="sale_id", order="order"),
        ),
        PromotionKind(
            key="promotion_campaigns",
            title=gettext_lazy("群发活动"),
            describe=[
                Column("name", gettext_lazy("活动"), TEXT),
                Column("segment__name", gettext_lazy("人群"), TEXT),
            ],
            promotions=lambda: Campaign.objects.order_by("-created_at", "-id").values(
                "id", "name", "segment__name"
            ),
            # growth.campaigns.selectors.campaign_orders, grouped: what a reached member paid within
            # the attribution window after their delivery.
            link=lambda: Link(
                CampaignDelivery.objects.filter(delivered_at__isnull=False),
                group="campaign_id",
                order="user__orders",
                window=Q(user__orders__paid_at__gte=F("delivered_at"))
                & Q(user__orders__paid_at__lt=F("delivered_at") + ATTRIBUTION_WINDOW),
            ),
            note=gettext_lazy("群发活动的订单：收到消息的会员在送达后 7 天内支付的订单。"),
        ),
    ]


def promotions(p: Period) -> list[Table]:
    """The promotions section: one table per kind of promotion."""
    return [promotion_table(kind, p) for kind in promotion_kinds()]
