"""Retention: repurchase (复购率), membership renewal rate, circle churn (退群率), the renewal pipeline."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circles.models import CircleMembership, CircleMembershipEvent
from insights.metrics.base import (
    INT,
    RATE,
    TEXT,
    Chart,
    Column,
    Kpi,
    Table,
    dt_param,
    fetch,
    rate,
    table_name,
)
from insights.metrics.revenue import PAID
from insights.periods import Period
from members.models import Membership, MembershipGrant
from payments.models import Order

RENEWAL_GRACE = timedelta(days=30)

DEF_REPURCHASE = gettext_lazy(
    "复购率 = 周期内有有效购买（已支付、金额大于 0、未全额退款）的用户中，截至周期结束累计有效购买 ≥ 2 笔的用户占比。"
)
DEF_RENEWAL = gettext_lazy(
    "会员续费率：会员有效期结束日落在周期内的次数为“到期”，其中在到期前续费或升级、或到期后 30 天内重新付费开通的为“续费”；"
    "续费率 = 续费 ÷ 到期。积分或赠送延长的有效期不算到期，也不算续费；被退款撤销的续费不算。"
)
DEF_CHURN = gettext_lazy(
    "退群率 = 周期内流失（主动退出、被移出、到期未续；试用到期不计）的付费圈子成员 ÷（期初在圈付费成员 + 本期新加入或重新加入的付费成员）。"
)
DEF_PIPELINE = gettext_lazy(
    "续费管道：当前有效、将在今天起 7 / 14 / 30 天内到期的会员（按等级）和付费圈子成员（按圈子）。"
)


def _valid_orders():
    return Order.objects.filter(PAID).exclude(status=Order.Status.REFUNDED)


def repurchase_pair(p: Period, q: Period) -> tuple[tuple[int, int], tuple[int, int]]:
    """((customers, repeat customers) of p, the same of q) — one pass over valid purchases up to p's end."""
    order = table_name(Order)
    ps, pe, qs, qe = (dt_param(v) for v in (p.start_at, p.end_at, q.start_at, q.end_at))
    (row,) = fetch(
        f"""
        SELECT COALESCE(SUM(in_p), 0) AS customers_p,
               COALESCE(SUM(CASE WHEN in_p = 1 AND n_p >= 2 THEN 1 ELSE 0 END), 0) AS repeat_p,
               COALESCE(SUM(in_q), 0) AS customers_q,
               COALESCE(SUM(CASE WHEN in_q = 1 AND n_q >= 2 THEN 1 ELSE 0 END), 0) AS repeat_q
        FROM (SELECT user_id,
                     MAX(CASE WHEN paid_at >= %s THEN 1 ELSE 0 END) AS in_p,
                     COUNT(*) AS n_p,
                     MAX(CASE WHEN paid_at >= %s AND paid_at < %s THEN 1 ELSE 0 END) AS in_q,
                     SUM(CASE WHEN paid_at < %s THEN 1 ELSE 0 END) AS n_q
              FROM {order}
              WHERE paid_at IS NOT NULL AND amount_fen > 0 AND status <> 'refunded' AND paid_at < %s
              GROUP BY user_id) per_user
        """,
        [ps, qs, qe, qe, pe],
    )
    return (row["customers_p"], row["repeat_p"]), (row["customers_q"], row["repeat_q"])


def repurchase(period: Period) -> tuple[int, int]:
    """(customers, repeat customers) of the period."""
    return repurchase_pair(period, period.previous())[0]


# ---- membership renewal -----------------------------------------------------------------------------------

_POSTPONED = Q(kind=MembershipGrant.Kind.CONVERT) | (
    Q(kind__in=[MembershipGrant.Kind.RENEW, MembershipGrant.Kind.UPGRADE])
    & ~Q(source=MembershipGrant.Source.PURCHASE)
)
_RENEWED = Q(source=MembershipGrant.Source.PURCHASE) & (
    Q(kind__in=[MembershipGrant.Kind.RENEW, MembershipGrant.Kind.UPGRADE])
    | Q(kind=MembershipGrant.Kind.START, created_at__lte=F("ends_before") + RENEWAL_GRACE)
)


def renewal_groups(*, start, end, grant_group: dict, membership_group: dict) -> dict:
    """{group: {"due", "renewed", "upgraded"}} for membership ends falling in [start, end).

    A membership end is either still the membership's end (due, not renewed yet), or was replaced by a
    later grant: `ends_before` of that grant is the old end. `grant_group` / `membership_group` are
    {"name": expression} annotations naming the group on grants and on memberships (same names, same
    order); with several names the group key is the tuple of their values.
    """
    names = list(grant_group)

    def key(row):
        return row[names[0]] if len(names) == 1 else tuple(row[n] for n in names)

    grants = (
        MembershipGrant.objects.filter(revoked_at__isnull=True, ends_before__gte=start, ends_before__lt=end)
        .exclude(_POSTPONED)
        .annotate(**grant_group)
        .values(*names)
        .annotate(
            due=Count("id"),
            renewed=Count("id", filter=_RENEWED),
            upgraded=Count("id", filter=_RENEWED & Q(kind=MembershipGrant.Kind.UPGRADE)),
        )
        .order_by()
    )
    lapsed = (
        Membership.objects.filter(ends_at__gte=start, ends_at__lt=end, ends_at__gt=F("starts_at"))
        .annotate(**membership_group)
        .values(*names)
        .annotate(due=Count("id"))
        .order_by()
    )
    out: dict = {}
    for row in grants:
        entry = out.setdefault(key(row), {"due": 0, "renewed": 0, "upgraded": 0})
        for k in ("due", "renewed", "upgraded"):
            entry[k] += row[k]
    for row in lapsed:
        out.setdefault(key(row), {"due": 0, "renewed": 0, "upgraded": 0})["due"] += row["due"]
    return out


def renewal_by_tier(period: Period) -> dict:
    return renewal_groups(
        start=period.start_at,
        end=period.end_at,
        grant_group={"tier_code": Coalesce("tier_before__code", "tier__code")},
        membership_group={"tier_code": F("tier__code")},
    )


# ---- circle churn ----------------------------------------------------------------------------------------

E = CircleMembershipEvent.Kind
_STATUS_KINDS = [E.JOINED, E.RENEWED, E.TRIAL, E.LEFT, E.REMOVED, E.EXPIRED]
_PAYING = [E.JOINED, E.RENEWED]


def circle_churn(period: Period) -> list[dict]:
    events = CircleMembershipEvent.objects.filter(membership=OuterRef("pk"))
    before = Subquery(
        events.filter(kind__in=_STATUS_KINDS, created_at__lt=period.start_at)
        .order_by("-created_at", "-id")
        .values("kind")[:1]
    )
    in_period = events.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    churn = in_period.filter(Q(kind__in=[E.LEFT, E.REMOVED]) | (Q(kind=E.EXPIRED) & ~Q(details__was="trial")))
    base = Q(before__in=_PAYING) | Q(gained=True)
    return list(
        CircleMembership.objects.annotate(
            before=before, gained=Exists(in_period.filter(kind__in=_PAYING)), churned=Exists(churn)
        )
        .values("circle", "circle__name")
        .annotate(
            at_start=Count("id", filter=Q(before__in=_PAYING)),
            base=Count("id", filter=base),
            lost=Count("id", filter=base & Q(churned=True)),
        )
        .order_by("circle")
    )


def retention(p: Period, q: Period) -> tuple[list[Kpi], list[Table]]:
    (cust_p, rep_p), (cust_q, rep_q) = repurchase_pair(p, q)

    ren_p, ren_q = renewal_by_tier(p), renewal_by_tier(q)
    tier_rows = []
    for code in sorted(set(ren_p) | set(ren_q), key=lambda c: c or ""):
        a, b = ren_p.get(code, {}), ren_q.get(code, {})
        tier_rows.append(
            {
                "tier": code or "-",
                "due": a.get("due", 0),
                "renewed": a.get("renewed", 0),
                "upgraded": a.get("upgraded", 0),
                "renewal_rate": rate(a.get("renewed", 0), a.get("due", 0)),
                "renewal_rate_prev": rate(b.get("renewed", 0), b.get("due", 0)),
            }
        )
    due_p, renewed_p = sum(r["due"] for r in ren_p.values()), sum(r["renewed"] for r in ren_p.values())
    due_q, renewed_q = sum(r["due"] for r in ren_q.values()), sum(r["renewed"] for r in ren_q.values())

    churn_p = circle_churn(p)
    churn_q = {r["circle"]: r for r in circle_churn(q)}
    circle_rows = [
        {
            "circle": r["circle__name"],
            "at_start": r["at_start"],
            "base": r["base"],
            "lost": r["lost"],
            "churn_rate": rate(r["lost"], r["base"]),
            "churn_rate_prev": rate(
                churn_q.get(r["circle"], {}).get("lost", 0), churn_q.get(r["circle"], {}).get("base", 0)
            ),
        }
        for r in churn_p
        if r["base"] or churn_q.get(r["circle"], {}).get("base")
    ]
    lost_p, base_p = sum(r["lost"] for r in churn_p), sum(r["base"] for r in churn_p)
    lost_q, base_q = sum(r["lost"] for r in churn_q.values()), sum(r["base"] for r in churn_q.values())

    now = timezone.now()
    soon = {f"in_{d}": Count("id", filter=Q(ends_at__lt=now + timedelta(days=d))) for d in (7, 14, 30)}
    pipeline = [
        {
            "name": _("会员 %(tier)s") % {"tier": r["tier__code"]},
            "membership": True,
            **{k: r[k] for k in soon},
        }
        for r in Membership.objects.filter(ends_at__gte=now, ends_at__lt=now + timedelta(days=30))
        .values("tier__code")
        .annotate(**soon)
        .order_by("tier__code")
    ]
    circle_soon = {
        f"in_{d}": Count("id", filter=Q(expires_at__lt=now + timedelta(days=d))) for d in (7, 14, 30)
    }
    pipeline += [
        {
            "name": _("圈子 %(name)s") % {"name": r["circle__name"]},
            "membership": False,
            **{k: r[k] for k in circle_soon},
        }
        for r in CircleMembership.objects.filter(
            status=CircleMembership.Status.ACTIVE,
            role=CircleMembership.Role.MEMBER,
            via_tier=False,
            expires_at__gte=now,
            expires_at__lt=now + timedelta(days=30),
        )
        .values("circle", "circle__name")
        .annotate(**circle_soon)
        .order_by("circle")
    ]
    expiring = sum(r["in_30"] for r in pipeline if r["membership"])

    kpis = [
        Kpi("repurchase_rate", _("复购率"), RATE, rate(rep_p, cust_p), rate(rep_q, cust_q), DEF_REPURCHASE),
        Kpi(
            "renewal_rate", _("会员续费率"), RATE, rate(renewed_p, due_p), rate(renewed_q, due_q), DEF_RENEWAL
        ),
        Kpi("churn_rate", _("退群率"), RATE, rate(lost_p, base_p), rate(lost_q, base_q), DEF_CHURN),
        Kpi("expiring_30d", _("30天内到期会员"), INT, expiring, None, DEF_PIPELINE, snapshot=True),
    ]
    tables = [
        Table(
            "repurchase",
            _("复购"),
            DEF_REPURCHASE,
            [
                Column("period", _("周期"), TEXT),
                Column("customers", _("付费用户"), INT),
                Column("repeat", _("复购用户"), INT),
                Column("repurchase_rate", _("复购率"), RATE),
            ],
            [
                {
                    "period": _("本期"),
                    "customers": cust_p,
                    "repeat": rep_p,
                    "repurchase_rate": rate(rep_p, cust_p),
                },
                {
                    "period": _("上期"),
                    "customers": cust_q,
                    "repeat": rep_q,
                    "repurchase_rate": rate(rep_q, cust_q),
                },
            ],
            Chart("bar", "period", ("customers", "repeat")),
        ),
        Table(
            "renewal_by_tier",
            _("会员续费率（按到期等级）"),
            DEF_RENEWAL,
            [
                Column("tier", _("到期等级"), TEXT),
                Column("due", _("到期"), INT),
                Column("renewed", _("续费（含升级）"), INT),
                Column("upgraded", _("其中升级"), INT),
                Column("renewal_rate", _("续费率"), RATE),
                Column("renewal_rate_prev", _("上期续费率"), RATE),
            ],
            tier_rows,
            Chart("bar", "tier", ("renewal_rate", "renewal_rate_prev")),
        ),
        Table(
            "circle_churn",
            _("圈子退群率"),
            DEF_CHURN,
            [
                Column("circle", _("圈子"), TEXT),
                Column("at_start", _("期初付费成员"), INT),
                Column("base", _("期初 + 新加入"), INT),
                Column("lost", _("流失"), INT),
                Column("churn_rate", _("退群率"), RATE),
                Column("churn_rate_prev", _("上期退群率"), RATE),
            ],
            circle_rows,
            Chart("bar", "circle", ("churn_rate", "churn_rate_prev")),
        ),
        Table(
            "renewal_pipeline",
            _("续费管道（今天起）"),
            DEF_PIPELINE,
            [
                Column("name", _("会员等级 / 圈子"), TEXT),
                Column("in_7", _("7天内到期"), INT),
                Column("in_14", _("14天内到期"), INT),
                Column("in_30", _("30天内到期"), INT),
            ],
            pipeline,
            Chart("bar", "name", ("in_7", "in_14", "in_30")),
        ),
    ]
    return kpis, tables
