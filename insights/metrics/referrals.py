"""Referrals: share of revenue from referrals, top promoters, refund rate per promoter (a fraud signal),
and commission held / available / paid from the ledger."""

from __future__ import annotations

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights.metrics.base import FEN, INT, RATE, TEXT, Chart, Column, Kpi, Table, rate
from insights.metrics.revenue import PAID, sum0, within
from insights.periods import Period
from payments.models import Account, AccountKind, Earning, Order, Withdrawal
from referrals.models import Commission

COMMISSION_SOURCES = [Earning.Source.COMMISSION, Earning.Source.COMMISSION_L2]
WATCH_MIN_ORDERS = 3

DEF_SHARE = gettext_lazy("推广收入占比 = 周期内有推荐人（下单时归属到推广员）的订单 GMV ÷ 全部 GMV。")
DEF_PROMOTERS = gettext_lazy(
    "推广员：周期内支付、归属到该推广员的订单（金额大于 0）；退款率 = 这些订单至今已退款金额 ÷ 其 GMV；"
    "佣金 = 周期内为该推广员计提的一级/二级佣金（扣除已冲回）。"
)
DEF_WATCH = gettext_lazy(
    "退款率观察名单：周期内推广成交 ≥ 3 单的推广员按退款率从高到低；退款率 ≥ 全站同期订单退款率的 2 倍且 ≥ 10% 时标记为异常，"
    "可能是刷单或诱导下单后退款。"
)
DEF_COMMISSION = gettext_lazy(
    "账本余额（当前）：冻结中 = 未过退款期的收益；可提现、提现中、欠款（结算后退款追回形成）为所有会员账户合计，"
    "含佣金、打赏、问答和员工分润；佣金冻结中只含推广佣金。已提现 = 已到账的提现累计。"
)


def _name(row: dict, prefix: str) -> str:
    return row[f"{prefix}__nickname"] or row[f"{prefix}__member_no"] or row[f"{prefix}__username"]


def referrals(p: Period, q: Period, facts: dict) -> tuple[list[Kpi], list[Table]]:
    in_p = within("paid_at", p)
    referred = Order.objects.filter(PAID, in_p, referrer__isnull=False)
    per_promoter = referred.values(
        "referrer", "referrer__nickname", "referrer__member_no", "referrer__username"
    ).annotate(
        gmv=Sum("amount_fen"),
        orders=Count("id"),
        buyers=Count("user", distinct=True),
        refunded=Sum("refunded_fen"),
        refunded_orders=Count("id", filter=Q(refunded_fen__gt=0)),
    )
    top = list(per_promoter.order_by("-gmv", "referrer")[:20])
    watch = list(
        per_promoter.filter(orders__gte=WATCH_MIN_ORDERS)
        .annotate(ratio=ExpressionWrapper(F("refunded") * 1.0 / F("gmv"), output_field=FloatField()))
        .order_by("-ratio", "-orders", "referrer")[:20]
    )
    site = Order.objects.filter(PAID, in_p).aggregate(
        gmv=sum0("amount_fen", Q()), refunded=sum0("refunded_fen", Q())
    )
    site_rate = rate(site["refunded"], site["gmv"]) or 0.0
    ids = {r["referrer"] for r in top}
    earned = {
        r["beneficiary"]: r["net"]
        for r in Commission.objects.filter(
            beneficiary__in=ids, created_at__gte=p.start_at, created_at__lt=p.end_at
        )
        .exclude(status=Commission.Status.SKIPPED)
        .values("beneficiary")
        .annotate(net=Sum(F("amount_fen") - F("reversed_fen")))
        .order_by()
    }
    top_rows = [
        {
            "promoter": _name(r, "referrer"),
            "orders": r["orders"],
            "buyers": r["buyers"],
            "gmv": r["gmv"],
            "refunded": r["refunded"],
            "refund_rate": rate(r["refunded"], r["gmv"]),
            "commission": earned.get(r["referrer"], 0),
        }
        for r in top
    ]
    watch_rows = [
        {
            "promoter": _name(r, "referrer"),
            "orders": r["orders"],
            "refunded_orders": r["refunded_orders"],
            "gmv": r["gmv"],
            "refunded": r["refunded"],
            "refund_rate": rate(r["refunded"], r["gmv"]),
            "flag": _("异常") if (r["ratio"] >= max(2 * site_rate, 0.10)) else "",
        }
        for r in watch
    ]

    # -- the ledger -----------------------------------------------------------------------------------
    e_p, e_q = within("created_at", p), within("created_at", q)
    s_p, s_q = within("settled_at", p), within("settled_at", q)
    remaining = F("amount_fen") - F("reversed_fen")
    commission = Earning.objects.filter(source__in=COMMISSION_SOURCES).aggregate(
        held=sum0(remaining, Q(status=Earning.Status.HELD)),
        settled=sum0(remaining, Q(status=Earning.Status.SETTLED)),
        reversed=sum0("reversed_fen", Q()),
        accrued_p=sum0("amount_fen", e_p),
        accrued_q=sum0("amount_fen", e_q),
        settled_p=sum0("amount_fen", s_p),
        settled_q=sum0("amount_fen", s_q),
    )
    balances = {
        row["kind"]: row["total"] or 0
        for row in Account.objects.filter(user__isnull=False)
        .values("kind")
        .annotate(total=Sum("balance_fen"))
        .order_by()
    }
    w_p, w_q = within("paid_at", p), within("paid_at", q)
    paid = Q(status=Withdrawal.Status.PAID)
    withdrawals = Withdrawal.objects.aggregate(
        paid_total=sum0("amount_fen", paid),
        paid_p=sum0("amount_fen", paid & w_p),
        paid_q=sum0("amount_fen", paid & w_q),
        in_flight=sum0("amount_fen", Q(status__in=Withdrawal.IN_FLIGHT)),
    )
    status_rows = [
        {"status": _("佣金冻结中（未过退款期）"), "amount": commission["held"]},
        {"status": _("佣金已结算"), "amount": commission["settled"]},
        {"status": _("全部收益冻结中"), "amount": balances.get(AccountKind.EARNINGS_PENDING, 0)},
        {"status": _("可提现"), "amount": balances.get(AccountKind.EARNINGS_AVAILABLE, 0)},
        {"status": _("提现中"), "amount": balances.get(AccountKind.EARNINGS_WITHDRAWING, 0)},
        {"status": _("已提现到账（累计）"), "amount": withdrawals["paid_total"]},
        {"status": _("会员欠款（追回形成）"), "amount": -balances.get(AccountKind.RECEIVABLE, 0)},
    ]
    flow_rows = [
        {"flow": _("计提佣金"), "amount": commission["accrued_p"], "amount_prev": commission["accrued_q"]},
        {
            "flow": _("佣金结算到可提现"),
            "amount": commission["settled_p"],
            "amount_prev": commission["settled_q"],
        },
        {
            "flow": _("提现到账（全部收益）"),
            "amount": withdrawals["paid_p"],
            "amount_prev": withdrawals["paid_q"],
        },
    ]

    kpis = [
        Kpi(
            "referral_share",
            _("推广收入占比"),
            RATE,
            rate(facts["referral_gmv_p"], facts["gmv_p"]),
            rate(facts["referral_gmv_q"], facts["gmv_q"]),
            DEF_SHARE,
        ),
        Kpi("commission_held", _("佣金冻结中"), FEN, commission["held"], None, DEF_COMMISSION, snapshot=True),
        Kpi(
            "commission_available",
            _("可提现收益"),
            FEN,
            balances.get(AccountKind.EARNINGS_AVAILABLE, 0),
            None,
            DEF_COMMISSION,
            snapshot=True,
        ),
        Kpi(
            "withdrawn", _("本期提现到账"), FEN, withdrawals["paid_p"], withdrawals["paid_q"], DEF_COMMISSION
        ),
    ]
    share_rows = [
        {"source": _("推广成交"), "gmv": facts["referral_gmv_p"], "gmv_prev": facts["referral_gmv_q"]},
        {
            "source": _("自然成交"),
            "gmv": facts["gmv_p"] - facts["referral_gmv_p"],
            "gmv_prev": facts["gmv_q"] - facts["referral_gmv_q"],
        },
    ]
    for row in share_rows:
        row["share"] = rate(row["gmv"], facts["gmv_p"])
    tables = [
        Table(
            "referral_share",
            _("推广收入占比"),
            DEF_SHARE,
            [
                Column("source", _("来源"), TEXT),
                Column("gmv", _("GMV"), FEN),
                Column("share", _("占比"), RATE),
                Column("gmv_prev", _("上期 GMV"), FEN),
            ],
            share_rows if facts["gmv_p"] or facts["gmv_q"] else [],
            Chart("doughnut", "source", ("gmv",)),
        ),
        Table(
            "top_promoters",
            _("推广员排行（前 20）"),
            DEF_PROMOTERS,
            [
                Column("promoter", _("推广员"), TEXT),
                Column("orders", _("成交单数"), INT),
                Column("buyers", _("购买人数"), INT),
                Column("gmv", _("推广 GMV"), FEN),
                Column("refunded", _("已退款"), FEN),
                Column("refund_rate", _("退款率"), RATE),
                Column("commission", _("佣金"), FEN),
            ],
            top_rows,
            Chart("bar", "promoter", ("gmv", "commission"), horizontal=True),
        ),
        Table(
            "promoter_refund_watch",
            _("推广员退款率观察"),
            DEF_WATCH,
            [
                Column("promoter", _("推广员"), TEXT),
                Column("orders", _("成交单数"), INT),
                Column("refunded_orders", _("退款单数"), INT),
                Column("gmv", _("推广 GMV"), FEN),
                Column("refunded", _("已退款"), FEN),
                Column("refund_rate", _("退款率"), RATE),
                Column("flag", _("标记"), TEXT),
            ],
            watch_rows,
            Chart("bar", "promoter", ("refund_rate",), horizontal=True),
            note=_("全站同期订单退款率：%(rate).1f%%") % {"rate": site_rate * 100},
        ),
        Table(
            "commission_status",
            _("佣金与收益账本（当前）"),
            DEF_COMMISSION,
            [Column("status", _("状态"), TEXT), Column("amount", _("金额"), FEN)],
            status_rows,
            Chart("bar", "status", ("amount",), horizontal=True),
        ),
        Table(
            "commission_flows",
            _("佣金与提现流水（本期 vs 上期）"),
            _("计提佣金按入账时间，结算按结算时间，提现按到账时间。"),
            [
                Column("flow", _("项目"), TEXT),
                Column("amount", _("本期"), FEN),
                Column("amount_prev", _("上期"), FEN),
            ],
            flow_rows,
            Chart("bar", "flow", ("amount", "amount_prev")),
        ),
    ]
    return kpis, tables
