"""Revenue: GMV, refunds and net by time, item type and channel; new paid members, renewals, upgrades."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights.metrics.base import FEN, INT, RATE, TEXT, Chart, Column, Kpi, Table, rate
from insights.periods import Period
from members.models import MembershipGrant
from payments import items
from payments.models import Channel, Order, Refund

# Orders that brought money: paid (whatever happened after) and not a free grant (points, gifts).
PAID = Q(paid_at__isnull=False, amount_fen__gt=0)
# Refunds that gave money back: completed; automatic refunds of payments that never became an order's
# revenue (paid twice, paid after closing) are not refunds of GMV.
REFUNDED = Q(status=Refund.Status.SUCCEEDED) & ~Q(kind=Refund.Kind.AUTO)

DEF_GMV = gettext_lazy(
    "GMV：支付时间在周期内、金额大于 0 的订单实付金额合计（不扣退款，不含积分兑换和赠送的 0 元订单）。"
)
DEF_REFUNDS = gettext_lazy("退款：退款成功时间在周期内的退款金额合计（不含重复支付、关单后支付的自动退款）。")
DEF_NET = gettext_lazy("净收入 = GMV − 退款（同一周期；退款可能属于更早周期的订单）。")


def within(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start_at, f"{field}__lt": period.end_at})


def sum0(field: str | Combinable, condition: Q):
    return Coalesce(Sum(field, filter=condition), 0)


def _trunc(period: Period, field: str):
    tz = timezone.get_default_timezone()
    return {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}[period.granularity](field, tzinfo=tz)


def _bucket_key(value):
    if hasattr(value, "hour"):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date()
    return value


def item_type_label(code: str) -> str:
    kind = items.registered().get(code)
    return str(kind.label) if kind is not None and kind.label else code


def channel_label(code: str) -> str:
    return str(dict(Channel.choices).get(code, code))


def revenue(p: Period, q: Period) -> tuple[list[Kpi], list[Table], dict]:
    span = Q(paid_at__gte=q.start_at, paid_at__lt=p.end_at)
    in_p, in_q = within("paid_at", p), within("paid_at", q)
    totals = Order.objects.filter(PAID, span).aggregate(
        gmv_p=sum0("amount_fen", in_p),
        gmv_q=sum0("amount_fen", in_q),
        orders_p=Count("id", filter=in_p),
        orders_q=Count("id", filter=in_q),
        customers_p=Count("user", filter=in_p, distinct=True),
        customers_q=Count("user", filter=in_q, distinct=True),
        referral_gmv_p=sum0("amount_fen", in_p & Q(referrer__isnull=False)),
        referral_gmv_q=sum0("amount_fen", in_q & Q(referrer__isnull=False)),
    )
    r_in_p, r_in_q = within("completed_at", p), within("completed_at", q)
    refunds = Refund.objects.filter(
        REFUNDED, completed_at__gte=q.start_at, completed_at__lt=p.end_at
    ).aggregate(
        refund_p=sum0("amount_fen", r_in_p),
        refund_q=sum0("amount_fen", r_in_q),
        referral_refund_p=sum0("amount_fen", r_in_p & Q(order__referrer__isnull=False)),
        referral_refund_q=sum0("amount_fen", r_in_q & Q(order__referrer__isnull=False)),
    )
    facts = {**totals, **refunds}

    # -- over time ---------------------------------------------------------------------------------------
    gmv_by_bucket = {
        _bucket_key(row["bucket"]): row
        for row in Order.objects.filter(PAID, in_p)
        .annotate(bucket=_trunc(p, "paid_at"))
        .values("bucket")
        .annotate(gmv=Sum("amount_fen"), orders=Count("id"))
        .order_by()
    }
    refund_by_bucket = {
        _bucket_key(row["bucket"]): row["refunds"]
        for row in Refund.objects.filter(REFUNDED, r_in_p)
        .annotate(bucket=_trunc(p, "completed_at"))
        .values("bucket")
        .annotate(refunds=Sum("amount_fen"))
        .order_by()
    }
    over_time = []
    for bucket in p.buckets():
        gmv = (gmv_by_bucket.get(bucket) or {}).get("gmv") or 0
        refund = refund_by_bucket.get(bucket) or 0
        over_time.append(
            {
                "bucket": p.bucket_label(bucket),
                "orders": (gmv_by_bucket.get(bucket) or {}).get("orders") or 0,
                "gmv": gmv,
                "refunds": refund,
                "net": gmv - refund,
            }
        )

    # -- by item type and by channel -----------------------------------------------------------------
    def breakdown(field: str, label) -> list[dict]:
        sold = {
            row[field]: row
            for row in Order.objects.filter(PAID, span)
            .values(field)
            .annotate(
                gmv=sum0("amount_fen", in_p),
                gmv_prev=sum0("amount_fen", in_q),
                orders=Count("id", filter=in_p),
            )
            .order_by()
        }
        back = {
            row[f"order__{field}"]: row
            for row in Refund.objects.filter(
                REFUNDED, completed_at__gte=q.start_at, completed_at__lt=p.end_at
            )
            .values(f"order__{field}")
            .annotate(refunds=sum0("amount_fen", r_in_p), refunds_prev=sum0("amount_fen", r_in_q))
            .order_by()
        }
        rows = []
        for key in sorted(set(sold) | set(back)):
            s, b = sold.get(key, {}), back.get(key, {})
            gmv, ref = s.get("gmv", 0), b.get("refunds", 0)
            gmv_prev, ref_prev = s.get("gmv_prev", 0), b.get("refunds_prev", 0)
            rows.append(
                {
                    "key": key,
                    "name": label(key),
                    "orders": s.get("orders", 0),
                    "gmv": gmv,
                    "refunds": ref,
                    "net": gmv - ref,
                    "net_prev": gmv_prev - ref_prev,
                    "share": None,
                }
            )
        total = sum(r["gmv"] for r in rows)
        for r in rows:
            r["share"] = rate(r["gmv"], total)
        rows.sort(key=lambda r: (-r["gmv"], r["name"]))
        return [r for r in rows if r["gmv"] or r["refunds"] or r["net_prev"]]

    breakdown_columns = [
        Column("name", _("名称"), TEXT),
        Column("orders", _("订单数"), INT),
        Column("gmv", _("GMV"), FEN),
        Column("refunds", _("退款"), FEN),
        Column("net", _("净收入"), FEN),
        Column("net_prev", _("上期净收入"), FEN),
        Column("share", _("GMV占比"), RATE),
    ]

    # -- membership movements -------------------------------------------------------------------------
    g_in_p, g_in_q = within("created_at", p), within("created_at", q)
    earlier_purchase = MembershipGrant.objects.filter(
        user=OuterRef("user"), source=MembershipGrant.Source.PURCHASE, created_at__lt=OuterRef("created_at")
    )
    movement_rows = list(
        MembershipGrant.objects.filter(
            source=MembershipGrant.Source.PURCHASE,
            revoked_at__isnull=True,
            kind__in=[MembershipGrant.Kind.START, MembershipGrant.Kind.RENEW, MembershipGrant.Kind.UPGRADE],
            created_at__gte=q.start_at,
            created_at__lt=p.end_at,
        )
        .annotate(returning=Exists(earlier_purchase))
        .values("kind", "returning", "tier__code", "tier_before__code")
        .annotate(
            members=Count("id", filter=g_in_p),
            members_prev=Count("id", filter=g_in_q),
            amount=sum0("order__amount_fen", g_in_p),
        )
        .order_by("kind", "tier__code")
    )
    movements: dict[str, dict] = {}
    kpi_counts = {"new": [0, 0], "renew": [0, 0], "upgrade": [0, 0]}
    for row in movement_rows:
        if row["kind"] == MembershipGrant.Kind.START:
            kind = "returning" if row["returning"] else "new"
            name = (_("回流开通") if row["returning"] else _("新开通")) + f" {row['tier__code']}"
        elif row["kind"] == MembershipGrant.Kind.RENEW:
            kind, name = "renew", _("续费") + f" {row['tier__code']}"
        else:
            kind, name = "upgrade", _("升级") + f" {row['tier_before__code'] or '-'}→{row['tier__code']}"
        if kind in kpi_counts:
            kpi_counts[kind][0] += row["members"]
            kpi_counts[kind][1] += row["members_prev"]
        entry = movements.setdefault(name, {"name": name, "members": 0, "members_prev": 0, "amount": 0})
        entry["members"] += row["members"]
        entry["members_prev"] += row["members_prev"]
        entry["amount"] += row["amount"]

    kpis = [
        Kpi("gmv", _("GMV"), FEN, facts["gmv_p"], facts["gmv_q"], DEF_GMV),
        Kpi("refunds", _("退款"), FEN, facts["refund_p"], facts["refund_q"], DEF_REFUNDS),
        Kpi(
            "net",
            _("净收入"),
            FEN,
            facts["gmv_p"] - facts["refund_p"],
            facts["gmv_q"] - facts["refund_q"],
            DEF_NET,
        ),
        Kpi(
            "orders",
            _("付费订单"),
            INT,
            facts["orders_p"],
            facts["orders_q"],
            _("支付时间在周期内、金额大于 0 的订单数。"),
        ),
        Kpi(
            "customers",
            _("付费用户"),
            INT,
            facts["customers_p"],
            facts["customers_q"],
            _("周期内至少支付过一笔金额大于 0 的订单的用户数（去重）。"),
        ),
        Kpi(
            "new_members",
            _("新付费会员"),
            INT,
            kpi_counts["new"][0],
            kpi_counts["new"][1],
            _("周期内第一次付费开通会员（此前从未付费开通、续费或升级过）且未被退款撤销的人数。"),
        ),
        Kpi(
            "renewals",
            _("会员续费"),
            INT,
            kpi_counts["renew"][0],
            kpi_counts["renew"][1],
            _("周期内付费续费同一等级会员的笔数（未被退款撤销）。"),
        ),
        Kpi(
            "upgrades",
            _("会员升级"),
            INT,
            kpi_counts["upgrade"][0],
            kpi_counts["upgrade"][1],
            _("周期内付费升级到更高等级（如 VIP→KA）的笔数（未被退款撤销）。"),
        ),
    ]
    tables = [
        Table(
            "revenue_over_time",
            _("收入走势"),
            f"{DEF_GMV} {DEF_REFUNDS} {DEF_NET} " + _("按天、周（周一开始）或月汇总，取决于周期长度。"),
            [
                Column("bucket", _("日期"), TEXT),
                Column("orders", _("订单数"), INT),
                Column("gmv", _("GMV"), FEN),
                Column("refunds", _("退款"), FEN),
                Column("net", _("净收入"), FEN),
            ],
            over_time,
            Chart("line", "bucket", ("gmv", "refunds", "net")),
        ),
        Table(
            "revenue_by_item_type",
            _("按商品类型"),
            _("每种商品类型的订单数、GMV、退款（按退款成功时间）和净收入；GMV占比 = 该类型 GMV ÷ 全部 GMV。"),
            breakdown_columns,
            breakdown("item_type", item_type_label),
            Chart("bar", "name", ("gmv", "refunds", "net")),
        ),
        Table(
            "revenue_by_channel",
            _("按支付渠道"),
            _("每个支付渠道（小程序、公众号网页、扫码、H5、沙箱）的订单数、GMV、退款和净收入。"),
            breakdown_columns,
            breakdown("channel", channel_label),
            Chart("bar", "name", ("gmv", "refunds", "net")),
        ),
        Table(
            "membership_movements",
            _("会员开通、续费与升级"),
            _(
                "付费会员变动（未被退款撤销）：新开通 = 第一次付费开通；回流开通 = 会员过期后再次付费开通；"
                "续费 = 有效期内续同一等级；升级 = 升到更高等级（按剩余天数折抵）。金额为对应订单实付。"
            ),
            [
                Column("name", _("变动"), TEXT),
                Column("members", _("人次"), INT),
                Column("members_prev", _("上期人次"), INT),
                Column("amount", _("金额"), FEN),
            ],
            sorted(movements.values(), key=lambda r: r["name"]),
            Chart("bar", "name", ("members", "members_prev")),
        ),
    ]
    return kpis, tables, facts
