"""Cohorts: course completion and membership renewal by acquisition channel and by acquiring promoter.

Cumulative (all users, all time): renewals take a year to come due, so a 30-day cohort says nothing yet.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import Lesson, LessonProgress
from insights.metrics.base import INT, RATE, TEXT, Chart, Column, Table, fetch, rate, table_name
from insights.metrics.funnel import (
    DIRECT,
    acquisition_channel,
    acquisition_referrer,
    channel_name,
    first_binding_sql,
    first_paid_sql,
)
from insights.metrics.retention import renewal_groups
from members.models import User

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

DEF_COHORT = gettext_lazy(
    "同一获客来源（首个推荐绑定的渠道或推广员；无绑定为自然流量）的全部用户，累计至今：付费率 = 有有效购买的用户 ÷ 用户；"
    "完课率 = 学完的（学员, 课程）÷ 开始学习的（学员, 课程）；续费率 = 至今所有会员到期中续费（含升级、到期 30 天内重新开通）的比例。"
)


def _completion_by(acq: str, ids: list | None = None) -> dict:
    lesson, progress, user = table_name(Lesson), table_name(LessonProgress), table_name(User)
    where = ""
    params: list = []
    if ids is not None:
        if not ids:
            return {}
        where = f"WHERE acq IN ({', '.join(['%s'] * len(ids))})"
        params = list(ids)
    sql = f"""
        SELECT acq, COUNT(*) AS started, SUM(CASE WHEN done >= n THEN 1 ELSE 0 END) AS completed FROM (
            SELECT {acq} AS acq, x.done AS done, lc.n AS n
            FROM (SELECT pr.course_id, pr.user_id,
                         SUM(CASE WHEN pr.completed AND l.is_published THEN 1 ELSE 0 END) AS done
                  FROM {progress} pr JOIN {lesson} l ON l.id = pr.lesson_id
                  GROUP BY pr.course_id, pr.user_id) x
            JOIN (SELECT course_id, COUNT(*) AS n FROM {lesson} WHERE is_published GROUP BY course_id) lc
              ON lc.course_id = x.course_id
            JOIN {user} u ON u.id = x.user_id
            LEFT JOIN {first_binding_sql()} fb ON fb.user_id = u.id
            WHERE NOT u.is_staff
        ) z {where}
        GROUP BY acq
    """
    return {r["acq"]: r for r in fetch(sql, params)}


CHANNEL_SQL = f"COALESCE(fb.channel, '{DIRECT}')"
REFERRER_SQL = "fb.referrer_id"


def _users_by(acq: str, *, promoters_only: bool = False) -> list[dict]:
    """Users and paying users per acquisition group (top 20 promoters when grouping by promoter)."""
    user = table_name(User)
    where, tail = (
        ("AND fb.referrer_id IS NOT NULL", "ORDER BY users DESC, acq LIMIT 20")
        if promoters_only
        else ("", "")
    )
    return fetch(
        f"""
        SELECT {acq} AS acq, COUNT(*) AS users,
               SUM(CASE WHEN fp.user_id IS NOT NULL THEN 1 ELSE 0 END) AS payers
        FROM {user} u
        LEFT JOIN {first_binding_sql()} fb ON fb.user_id = u.id
        LEFT JOIN {first_paid_sql()} fp ON fp.user_id = u.id
        WHERE NOT u.is_staff {where}
        GROUP BY {acq} {tail}
        """
    )


def _rows(groups: list[dict], key: str, completion: dict, renewal: dict, label) -> list[dict]:
    out = []
    for g in groups:
        k = g[key]
        c, r = completion.get(k, {}), renewal.get(k, {})
        out.append(
            {
                "name": label(g),
                "users": g["users"],
                "payers": g["payers"],
                "pay_rate": rate(g["payers"], g["users"]),
                "started": c.get("started", 0),
                "completed": c.get("completed", 0) or 0,
                "completion_rate": rate(c.get("completed", 0), c.get("started", 0)),
                "due": r.get("due", 0),
                "renewed": r.get("renewed", 0),
                "renewal_rate": rate(r.get("renewed", 0), r.get("due", 0)),
            }
        )
    return out


COLUMNS = [
    Column("name", gettext_lazy("获客来源"), TEXT),
    Column("users", gettext_lazy("用户"), INT),
    Column("payers", gettext_lazy("付费用户"), INT),
    Column("pay_rate", gettext_lazy("付费率"), RATE),
    Column("started", gettext_lazy("开始学习（人·课）"), INT),
    Column("completed", gettext_lazy("学完（人·课）"), INT),
    Column("completion_rate", gettext_lazy("完课率"), RATE),
    Column("due", gettext_lazy("会员到期"), INT),
    Column("renewed", gettext_lazy("续费"), INT),
    Column("renewal_rate", gettext_lazy("续费率"), RATE),
]


def cohorts() -> list[Table]:
    now = timezone.now()
    by_channel = _users_by(CHANNEL_SQL)
    channel_renewal = renewal_groups(
        start=EPOCH,
        end=now,
        grant_group={"acq": acquisition_channel("user")},
        membership_group={"acq": acquisition_channel("user")},
    )
    channel_rows = _rows(
        by_channel, "acq", _completion_by(CHANNEL_SQL), channel_renewal, lambda g: channel_name(g["acq"])
    )
    channel_rows.sort(key=lambda r: (r["name"] == channel_name(DIRECT), -r["users"]))

    by_promoter = _users_by(REFERRER_SQL, promoters_only=True)
    ids = [g["acq"] for g in by_promoter]
    names = {
        u["id"]: u["nickname"] or u["member_no"] or u["username"]
        for u in User.objects.filter(id__in=ids).values("id", "nickname", "member_no", "username")
    }
    promoter_renewal = renewal_groups(
        start=EPOCH,
        end=now,
        grant_group={"acq": acquisition_referrer("user")},
        membership_group={"acq": acquisition_referrer("user")},
    )
    promoter_rows = _rows(
        by_promoter,
        "acq",
        _completion_by(REFERRER_SQL, ids),
        promoter_renewal,
        lambda g: names.get(g["acq"], str(g["acq"])),
    )
    return [
        Table(
            "cohort_by_channel",
            _("按获客渠道的用户质量"),
            DEF_COHORT,
            COLUMNS,
            channel_rows,
            Chart("bar", "name", ("pay_rate", "completion_rate", "renewal_rate")),
        ),
        Table(
            "cohort_by_promoter",
            _("按推广员的用户质量（带来用户最多的 20 位）"),
            DEF_COHORT,
            [Column("name", _("推广员"), TEXT), *COLUMNS[1:]],
            promoter_rows,
            Chart("bar", "name", ("pay_rate", "completion_rate", "renewal_rate"), horizontal=True),
        ),
    ]
