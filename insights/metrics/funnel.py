"""Acquisition funnel: link visits → sign-ups → first payment (付费率), per channel and per referral link.

A user's acquisition is their first referral binding (whatever made it: sign-up through a link, or a
first purchase through one): its channel and its promoter. Users without a binding came directly.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    is_postgres,
    rate,
    table_name,
)
from insights.models import LinkVisitDay
from insights.periods import Period
from members.models import User
from payments.models import Order
from referrals.models import LinkChannel, ReferralBinding, ReferralLinkStat

# One definition of acquisition, in referrals; exports and cohorts read it from here.
from referrals.selectors import DIRECT, acquisition_channel  # noqa: F401


def channel_name(code: str | None) -> str:
    if code == DIRECT or code is None:
        return _("自然流量（无推荐）")
    if code == "":
        return _("未注明渠道")
    return str(dict(LinkChannel.choices).get(code, code))


def acquisition_referrer(outer: str = "pk"):
    """The promoter of the outer user's first referral binding (NULL: came directly)."""
    first = ReferralBinding.objects.filter(user=OuterRef(outer)).order_by("id")
    return Subquery(first.values("referrer")[:1])


DEF_SIGNUP = gettext_lazy(
    "注册：注册时间在周期内的用户（不含员工账号），按获客渠道归类（首个推荐绑定的渠道；无绑定为自然流量）。"
)
DEF_PAID = gettext_lazy(
    "首次付费：这些注册用户中，在周期结束前已有有效购买（已支付、金额大于 0、未全额退款）的人数。"
)
DEF_PAY_RATE = gettext_lazy("付费率 = 首次付费人数 ÷ 注册人数。")
DEF_VISITS = gettext_lazy(
    "访问：推广链接/海报被打开的次数（每个会话每个链接记一次），来自推广链接计数的每日快照；自然流量不计访问。"
)


def _visits_by(fields: list[str], p: Period, q: Period, **filters) -> tuple[dict, dict, bool]:
    """Visits in p and q keyed by `fields`, from daily snapshots plus what today added since the last one."""
    in_p = Q(day__gte=p.start, day__lte=p.end)
    in_q = Q(day__gte=q.start, day__lte=q.end)
    recorded = list(
        LinkVisitDay.objects.filter(**filters)
        .values(*fields)
        .annotate(
            p=Coalesce(Sum("visits", filter=in_p), 0),
            q=Coalesce(Sum("visits", filter=in_q), 0),
            all=Sum("visits"),
        )
        .order_by()
    )
    if not recorded and not LinkVisitDay.objects.exists():
        return {}, {}, False
    key = (lambda row: tuple(row[f] for f in fields)) if len(fields) > 1 else (lambda row: row[fields[0]])
    visits_p = {key(r): r["p"] for r in recorded}
    visits_q = {key(r): r["q"] for r in recorded}
    if p.end >= timezone.localdate():
        live_fields = ["user" if f == "referrer" else f for f in fields]
        live_filters = {k.replace("referrer", "user"): v for k, v in filters.items()}
        all_recorded = {key(r): r["all"] for r in recorded}
        for row in (
            ReferralLinkStat.objects.filter(**live_filters)
            .values(*live_fields)
            .annotate(total=Sum("visits"))
            .order_by()
        ):
            row = {f: row[lf] for f, lf in zip(fields, live_fields, strict=True)} | {"total": row["total"]}
            k = key(row)
            visits_p[k] = visits_p.get(k, 0) + max(0, row["total"] - all_recorded.get(k, 0))
    return visits_p, visits_q, True


def first_binding_sql(only_users: str = "") -> str:
    """Derived table (user_id, channel, referrer_id): each user's first referral binding (the earliest
    recorded; later rows are re-bindings). Written so the planner estimates one row per user and
    hash-joins (a ROW_NUMBER() = 1 filter is estimated at a handful of rows and planned as a nested
    loop). `only_users` (a subquery of user ids, in parentheses) limits the work to those users."""
    binding = table_name(ReferralBinding)
    if is_postgres():
        where = f"WHERE user_id IN {only_users}" if only_users else ""
        return f"""(SELECT DISTINCT ON (user_id) user_id, channel, referrer_id FROM {binding} {where}
            ORDER BY user_id, id)"""
    inner = (
        f"SELECT MIN(x.id) AS first_id FROM {binding} x JOIN {only_users} o ON o.id = x.user_id GROUP BY x.user_id"
        if only_users
        else f"SELECT MIN(id) AS first_id FROM {binding} GROUP BY user_id"
    )
    return f"""(SELECT b.user_id, b.channel, b.referrer_id FROM {binding} b
        JOIN ({inner}) f ON f.first_id = b.id)"""


def first_paid_sql(only_users: str = "", before: str = "") -> str:
    """Derived table (user_id, first_paid): each user's first valid purchase (paid, > 0, not fully
    refunded); optionally only for `only_users` and purchases before the `before` parameter."""
    order = table_name(Order)
    join = f"JOIN {only_users} o ON o.id = x.user_id" if only_users else ""
    extra = f" AND x.paid_at < {before}" if before else ""
    return f"""(SELECT x.user_id, MIN(x.paid_at) AS first_paid FROM {order} x {join}
        WHERE x.paid_at IS NOT NULL AND x.amount_fen > 0 AND x.status <> 'refunded'{extra} GROUP BY x.user_id)"""


def _signup_counts(p: Period, q: Period) -> list[dict]:
    """Sign-ups and first payments of P and Q per acquisition (promoter, channel) — one statement; the
    channel totals and the top links are both read from its rows. Only the users who signed up in the
    two periods are looked at (their bindings and purchases are found by joining them)."""
    user = table_name(User)
    joined = f"(SELECT id FROM {user} WHERE NOT is_staff AND date_joined >= %s AND date_joined < %s)"
    sql = f"""
        SELECT fb.referrer_id AS referrer_id, COALESCE(fb.channel, '{DIRECT}') AS channel,
               SUM(CASE WHEN u.date_joined >= %s THEN 1 ELSE 0 END) AS signups,
               SUM(CASE WHEN u.date_joined >= %s AND fp.first_paid < %s THEN 1 ELSE 0 END) AS paid,
               SUM(CASE WHEN u.date_joined < %s THEN 1 ELSE 0 END) AS signups_prev,
               SUM(CASE WHEN u.date_joined < %s AND fp.first_paid < %s THEN 1 ELSE 0 END) AS paid_prev
        FROM {user} u
        LEFT JOIN {first_binding_sql(joined)} fb ON fb.user_id = u.id
        LEFT JOIN {first_paid_sql(joined, before="%s")} fp ON fp.user_id = u.id
        WHERE NOT u.is_staff AND u.date_joined >= %s AND u.date_joined < %s
        GROUP BY fb.referrer_id, COALESCE(fb.channel, '{DIRECT}')
    """
    ps, pe, qs, qe = (dt_param(v) for v in (p.start_at, p.end_at, q.start_at, q.end_at))
    return fetch(sql, [ps, ps, pe, qe, qe, qe, qs, pe, qs, pe, pe, qs, pe])


def funnel(p: Period, q: Period) -> tuple[list[Kpi], list[Table]]:
    counts = ("signups", "paid", "signups_prev", "paid_prev")
    groups = _signup_counts(p, q)
    by_channel: dict[str, dict] = {}
    for row in groups:
        entry = by_channel.setdefault(row["channel"], dict.fromkeys(counts, 0))
        for k in counts:
            entry[k] += row[k] or 0
    visits_p, visits_q, have_visits = _visits_by(["channel"], p, q)
    channel_rows = []
    for code in sorted(set(by_channel) | set(visits_p), key=lambda c: (c == DIRECT, c)):
        row = by_channel.get(code, {})
        v = visits_p.get(code) if have_visits and code != DIRECT else None
        signups, paid = row.get("signups", 0), row.get("paid", 0)
        if not (signups or row.get("signups_prev") or v):
            continue
        channel_rows.append(
            {
                "key": code,
                "name": channel_name(code),
                "visits": v,
                "signups": signups,
                "signup_rate": rate(signups, v) if v else None,
                "paid": paid,
                "pay_rate": rate(paid, signups),
                "pay_rate_prev": rate(row.get("paid_prev", 0), row.get("signups_prev", 0)),
            }
        )
    tot = {k: sum(r.get(k, 0) or 0 for r in by_channel.values()) for k in counts}
    referral_visits_p = sum(v for k, v in visits_p.items() if k != DIRECT) if have_visits else None
    referral_visits_q = sum(visits_q.values()) if have_visits else None

    # -- per referral link (promoter × channel), sign-ups of P only ------------------------------------
    link_rows = [
        {"acq_referrer": r["referrer_id"], "acq": r["channel"], "signups": r["signups"], "paid": r["paid"]}
        for r in sorted(
            (r for r in groups if r["referrer_id"] is not None and r["signups"]),
            key=lambda r: (-r["signups"], -r["paid"], r["referrer_id"], r["channel"]),
        )[:20]
    ]
    referrer_ids = {r["acq_referrer"] for r in link_rows}
    names = {
        u["id"]: u["nickname"] or u["member_no"] or u["username"]
        for u in User.objects.filter(id__in=referrer_ids).values("id", "nickname", "member_no", "username")
    }
    link_visits, _prev, _have = _visits_by(["referrer", "channel"], p, q, referrer__in=referrer_ids)
    links = [
        {
            "link": f"{names.get(r['acq_referrer'], r['acq_referrer'])} · {channel_name(r['acq'])}",
            "promoter": names.get(r["acq_referrer"], r["acq_referrer"]),
            "channel": channel_name(r["acq"]),
            "visits": link_visits.get((r["acq_referrer"], r["acq"])) if have_visits else None,
            "signups": r["signups"],
            "paid": r["paid"],
            "pay_rate": rate(r["paid"], r["signups"]),
        }
        for r in link_rows
    ]
    funnel_columns = [
        Column("name", _("获客渠道"), TEXT),
        Column("visits", _("访问"), INT),
        Column("signups", _("注册"), INT),
        Column("signup_rate", _("注册率"), RATE),
        Column("paid", _("首次付费"), INT),
        Column("pay_rate", _("付费率"), RATE),
        Column("pay_rate_prev", _("上期付费率"), RATE),
    ]
    kpis = [
        Kpi("signups", _("新注册"), INT, tot["signups"], tot["signups_prev"], DEF_SIGNUP),
        Kpi(
            "pay_rate",
            _("付费率"),
            RATE,
            rate(tot["paid"], tot["signups"]),
            rate(tot["paid_prev"], tot["signups_prev"]),
            f"{DEF_PAID} {DEF_PAY_RATE}",
        ),
        Kpi("link_visits", _("推广链接访问"), INT, referral_visits_p, referral_visits_q, DEF_VISITS),
    ]
    tables = [
        Table(
            "funnel_by_channel",
            _("获客漏斗（按渠道）"),
            f"{DEF_VISITS} {DEF_SIGNUP} {DEF_PAID} " + _("注册率 = 注册 ÷ 访问；") + DEF_PAY_RATE,
            funnel_columns,
            channel_rows,
            Chart("bar", "name", ("visits", "signups", "paid")),
            note="" if have_visits else _("还没有推广链接访问快照（每日 00:05 生成），访问数暂缺。"),
        ),
        Table(
            "funnel_by_link",
            _("推广链接漏斗（前 20）"),
            _(
                "按推广员和渠道（即一条推广链接）统计本期注册用户与其中的首次付费；访问为该链接本期的打开次数。"
            ),
            [
                Column("promoter", _("推广员"), TEXT),
                Column("channel", _("渠道"), TEXT),
                Column("visits", _("访问"), INT),
                Column("signups", _("注册"), INT),
                Column("paid", _("首次付费"), INT),
                Column("pay_rate", _("付费率"), RATE),
            ],
            links,
            Chart("bar", "link", ("signups", "paid"), horizontal=True),
        ),
    ]
    return kpis, tables
