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


ACQ_GROUP = f"fb.referrer_id, COALESCE(fb.channel, '{DIRECT}')"


def _user_groups() -> list[dict]:
    """Per (promoter id or None, channel): users, paying users, and (learner, course) pairs started and
    finished — one statement over users, their first binding, first payment and course progress."""
    lesson, progress, user = table_name(Lesson), table_name(LessonProgress), table_name(User)
    return fetch(
        f"""
        SELECT fb.referrer_id AS referrer_id, COALESCE(fb.channel, '{DIRECT}') AS channel, COUNT(*) AS users,
               SUM(CASE WHEN fp.user_id IS NOT NULL THEN 1 ELSE 0 END) AS payers,
               COALESCE(SUM(cp.started), 0) AS started, COALESCE(SUM(cp.completed), 0) AS completed
        FROM {user} u
        LEFT JOIN {first_binding_sql()} fb ON fb.user_id = u.id
        LEFT JOIN {first_paid_sql()} fp ON fp.user_id = u.id
        LEFT JOIN (
            SELECT x.user_id, COUNT(*) AS started, SUM(CASE WHEN x.done >= lc.n THEN 1 ELSE 0 END) AS completed
            FROM (SELECT pr.course_id, pr.user_id,
                         SUM(CASE WHEN pr.completed AND l.is_published THEN 1 ELSE 0 END) AS done
                  FROM {progress} pr JOIN {lesson} l ON l.id = pr.lesson_id
                  GROUP BY pr.course_id, pr.user_id) x
            JOIN (SELECT course_id, COUNT(*) AS n FROM {lesson} WHERE is_published GROUP BY course_id) lc
              ON lc.course_id = x.course_id
            GROUP BY x.user_id
        ) cp ON cp.user_id = u.id
        WHERE NOT u.is_staff
        GROUP BY {ACQ_GROUP}
        """
    )


def _roll_up(groups: list[dict], renewal: dict, by: str) -> dict:
    """Sum the (promoter, channel) groups by channel or by promoter."""
    out: dict = {}
    for g in groups:
        k = g[by]
        e = out.setdefault(k, dict.fromkeys(("users", "payers", "started", "completed", "due", "renewed"), 0))
        key = (g["referrer_id"], g["channel"])
        r = renewal.get(key, {})
        e["users"] += g["users"]
        e["payers"] += g["payers"] or 0
        e["started"] += g["started"] or 0
        e["completed"] += g["completed"] or 0
        e["due"] += r.get("due", 0)
        e["renewed"] += r.get("renewed", 0)
    return out


def _rows(rolled: dict, label) -> list[dict]:
    return [
        {
            "name": label(k),
            "users": e["users"],
            "payers": e["payers"],
            "pay_rate": rate(e["payers"], e["users"]),
            "started": e["started"],
            "completed": e["completed"],
            "completion_rate": rate(e["completed"], e["started"]),
            "due": e["due"],
            "renewed": e["renewed"],
            "renewal_rate": rate(e["renewed"], e["due"]),
        }
        for k, e in rolled.items()
    ]


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
    groups = _user_groups()
    renewal = renewal_groups(
        start=EPOCH,
        end=timezone.now(),
        grant_group={"referrer_id": acquisition_referrer("user"), "channel": acquisition_channel("user")},
        membership_group={
            "referrer_id": acquisition_referrer("user"),
            "channel": acquisition_channel("user"),
        },
    )
    channel_rows = _rows(_roll_up(groups, renewal, "channel"), channel_name)
    channel_rows.sort(key=lambda r: (r["name"] == channel_name(DIRECT), -r["users"]))

    by_promoter = _roll_up([g for g in groups if g["referrer_id"] is not None], renewal, "referrer_id")
    top = dict(sorted(by_promoter.items(), key=lambda kv: (-kv[1]["users"], kv[0]))[:20])
    names = {
        u["id"]: u["nickname"] or u["member_no"] or u["username"]
        for u in User.objects.filter(id__in=list(top)).values("id", "nickname", "member_no", "username")
    }
    promoter_rows = _rows(top, lambda k: names.get(k, str(k)))
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
