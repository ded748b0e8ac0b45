"""Learning: course completion (完课率), camp check-in rate per day of term, time to the teacher's review."""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import Camp, CampTask, CheckIn, Course, Lesson, LessonProgress, Term, TermSeat
from insights.metrics.base import (
    INT,
    RATE,
    SECONDS,
    TEXT,
    Chart,
    Column,
    Kpi,
    Table,
    date_param,
    days_since_sql,
    dt_param,
    fetch,
    is_postgres,
    rate,
    seconds_between_sql,
    table_name,
)
from insights.periods import Period

DEF_COMPLETION = gettext_lazy(
    "完课率 = 学完某课程全部已发布课时的学员 ÷ 开始学习该课程（至少有一条学习记录）的学员，累计至今；"
    "本期完课 = 最后一个课时的完成时间落在周期内的学员数。"
)
DEF_CHECKIN = gettext_lazy(
    "打卡率（第 N 天）= 第 N 天任务的有效打卡数（含补卡，不含审核未通过）÷ 已进行到第 N 天的营期的在营学员数；"
    "统计与周期有交集的营期，已退出/退款的学员不计。"
)
DEF_REVIEW = gettext_lazy(
    "点评时长 = 老师点评时间 − 学员提交打卡时间；中位数取周期内完成点评的打卡。待点评 = 已发布、尚未点评的打卡（当前）。"
)


def course_completion(p: Period, q: Period) -> list[dict]:
    course, lesson, progress = table_name(Course), table_name(Lesson), table_name(LessonProgress)
    sql = f"""
        SELECT c.id AS course_id, c.title AS title, lc.n AS lessons,
               COUNT(x.user_id) AS learners,
               COALESCE(SUM(CASE WHEN x.done >= lc.n THEN 1 ELSE 0 END), 0) AS completed,
               COALESCE(SUM(CASE WHEN x.done >= lc.n AND x.last_done >= %s AND x.last_done < %s
                                 THEN 1 ELSE 0 END), 0) AS completed_p,
               COALESCE(SUM(CASE WHEN x.done >= lc.n AND x.last_done >= %s AND x.last_done < %s
                                 THEN 1 ELSE 0 END), 0) AS completed_q
        FROM {course} c
        JOIN (SELECT course_id, COUNT(*) AS n FROM {lesson} WHERE is_published GROUP BY course_id) lc
          ON lc.course_id = c.id
        LEFT JOIN (
            SELECT pr.course_id, pr.user_id,
                   SUM(CASE WHEN pr.completed AND l.is_published THEN 1 ELSE 0 END) AS done,
                   MAX(CASE WHEN pr.completed AND l.is_published THEN pr.completed_at END) AS last_done
            FROM {progress} pr JOIN {lesson} l ON l.id = pr.lesson_id
            GROUP BY pr.course_id, pr.user_id
        ) x ON x.course_id = c.id
        GROUP BY c.id, c.title, lc.n, c.sort_order
        ORDER BY c.sort_order, c.id
    """
    return fetch(sql, [dt_param(p.start_at), dt_param(p.end_at), dt_param(q.start_at), dt_param(q.end_at)])


def _running_terms_sql() -> str:
    return "t.start_date <= %s AND t.end_date >= %s"


def checkins_per_day(period: Period) -> list[dict]:
    """[{day, possible, done}] over the terms running in the period, days that have arrived."""
    term, seat, task, checkin = (
        table_name(Term),
        table_name(TermSeat),
        table_name(CampTask),
        table_name(CheckIn),
    )
    today = timezone.localdate()
    running = _running_terms_sql()
    possible = fetch(
        f"""
        SELECT k.day AS day, SUM(s.seats) AS possible
        FROM {task} k
        JOIN (SELECT t.id, t.camp_id, t.days, {days_since_sql("%s", "t.start_date")} AS elapsed,
                     COUNT(st.id) AS seats
              FROM {term} t JOIN {seat} st ON st.term_id = t.id AND st.status = 'active'
              WHERE {running}
              GROUP BY t.id, t.camp_id, t.days, t.start_date) s
          ON s.camp_id = k.camp_id AND k.day <= s.days AND k.day <= s.elapsed + 1
        GROUP BY k.day ORDER BY k.day
        """,
        [date_param(today), date_param(period.end), date_param(period.start)],
    )
    done = {
        row["day"]: row["done"]
        for row in fetch(
            f"""
            SELECT k.day AS day, COUNT(*) AS done
            FROM {checkin} c
            JOIN {task} k ON k.id = c.task_id
            JOIN {seat} st ON st.id = c.seat_id
            JOIN {term} t ON t.id = c.term_id
            WHERE st.status = 'active' AND c.status IN ('visible', 'review') AND {running}
            GROUP BY k.day
            """,
            [date_param(period.end), date_param(period.start)],
        )
    }
    return [{"day": r["day"], "possible": r["possible"], "done": done.get(r["day"], 0)} for r in possible]


def checkins_per_term(period: Period) -> list[dict]:
    term, seat, camp = table_name(Term), table_name(TermSeat), table_name(Camp)
    today = timezone.localdate()
    elapsed = days_since_sql("%s", "t.start_date")
    return fetch(
        f"""
        SELECT t.id AS term_id, cp.title AS camp, t.name AS term, t.start_date AS start_date,
               COUNT(st.id) AS seats,
               COALESCE(SUM(st.checkin_days), 0) AS checkins,
               COUNT(st.completed_at) AS completed,
               CASE WHEN {elapsed} + 1 < t.days THEN {elapsed} + 1 ELSE t.days END AS days_run
        FROM {term} t
        JOIN {camp} cp ON cp.id = t.camp_id
        JOIN {seat} st ON st.term_id = t.id AND st.status = 'active'
        WHERE {_running_terms_sql()}
        GROUP BY t.id, cp.title, t.name, t.start_date, t.days
        ORDER BY t.start_date, t.id
        """,
        [date_param(today), date_param(today), date_param(period.end), date_param(period.start)],
    )


def _median_sql(group: str) -> str:
    """Median review time per `group` (an expression with at most its own parameters, used once).

    PostgreSQL: percentile_cont, one sort per group. SQLite (the demo) has no percentile: the middle
    row(s) by ROW_NUMBER over the same ordering.
    """
    checkin, term = table_name(CheckIn), table_name(Term)
    secs = seconds_between_sql("c.reviewed_at", "c.created_at")
    base = f"""SELECT {group} AS grp, {secs} AS secs
            FROM {checkin} c JOIN {term} t ON t.id = c.term_id
            WHERE c.reviewed_at >= %s AND c.reviewed_at < %s"""
    if is_postgres():
        return f"""SELECT grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) AS median, COUNT(*) AS reviewed
            FROM ({base}) b GROUP BY grp"""
    return f"""
        SELECT grp, AVG(secs) AS median, MAX(cnt) AS reviewed FROM (
            SELECT grp, secs, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY secs) AS rn,
                   COUNT(*) OVER (PARTITION BY grp) AS cnt
            FROM ({base}) b
        ) z
        WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
        GROUP BY grp
    """


def review_medians(p: Period, q: Period) -> dict:
    """{"p": (median seconds, reviewed), "q": …} — one statement, a window over both periods."""
    rows = fetch(
        _median_sql("CASE WHEN c.reviewed_at >= %s THEN 'p' ELSE 'q' END"),
        [dt_param(p.start_at), dt_param(q.start_at), dt_param(p.end_at)],
    )
    return {r["grp"]: (float(r["median"]), r["reviewed"]) for r in rows}


def review_by_camp(p: Period) -> list[dict]:
    camp = table_name(Camp)
    checkin, term = table_name(CheckIn), table_name(Term)
    medians = {
        r["grp"]: r for r in fetch(_median_sql("t.camp_id"), [dt_param(p.start_at), dt_param(p.end_at)])
    }
    waiting = fetch(
        f"""
        SELECT cp.id AS camp_id, cp.title AS camp, COUNT(c.id) AS waiting, MIN(c.created_at) AS oldest
        FROM {camp} cp
        LEFT JOIN {term} t ON t.camp_id = cp.id
        LEFT JOIN {checkin} c ON c.term_id = t.id AND c.status = 'visible' AND c.reviewed_at IS NULL
        GROUP BY cp.id, cp.title ORDER BY cp.id
        """
    )
    now = timezone.now()
    out = []
    for row in waiting:
        m = medians.get(row["camp_id"])
        oldest = row["oldest"]
        if isinstance(oldest, str):  # SQLite returns MIN() of a datetime column as text
            oldest = parse_datetime(oldest)
            assert oldest is not None  # the database wrote it: always a valid datetime
            if timezone.is_naive(oldest):
                oldest = timezone.make_aware(oldest, UTC)
        if not (m or row["waiting"]):
            continue
        out.append(
            {
                "camp": row["camp"],
                "reviewed": m["reviewed"] if m else 0,
                "median": float(m["median"]) if m else None,
                "waiting": row["waiting"],
                "oldest_wait": (now - oldest).total_seconds() if oldest else None,
            }
        )
    return out


def learning(p: Period, q: Period) -> tuple[list[Kpi], list[Table]]:
    courses = course_completion(p, q)
    course_rows = [
        {
            "course": r["title"],
            "lessons": r["lessons"],
            "learners": r["learners"],
            "completed": r["completed"],
            "completion_rate": rate(r["completed"], r["learners"]),
            "completed_p": r["completed_p"],
            "completed_q": r["completed_q"],
        }
        for r in courses
    ]
    learners = sum(r["learners"] for r in courses)
    completed = sum(r["completed"] for r in courses)

    per_day_p, per_day_q = checkins_per_day(p), checkins_per_day(q)
    prev_by_day = {r["day"]: r for r in per_day_q}
    day_rows = [
        {
            "day": _("第%(n)s天") % {"n": r["day"]},
            "possible": r["possible"],
            "done": r["done"],
            "checkin_rate": rate(r["done"], r["possible"]),
            "checkin_rate_prev": rate(
                prev_by_day.get(r["day"], {}).get("done"), prev_by_day.get(r["day"], {}).get("possible")
            ),
        }
        for r in per_day_p
    ]
    checkin_p = rate(sum(r["done"] for r in per_day_p), sum(r["possible"] for r in per_day_p))
    checkin_q = rate(sum(r["done"] for r in per_day_q), sum(r["possible"] for r in per_day_q))
    term_rows = [
        {
            "term": f"{r['camp']} · {r['term']}",
            "start": str(r["start_date"]),
            "seats": r["seats"],
            "days_run": r["days_run"],
            "checkins": r["checkins"],
            "checkin_rate": rate(r["checkins"], r["seats"] * max(r["days_run"], 0)),
            "completed": r["completed"],
        }
        for r in checkins_per_term(p)
    ]

    medians = review_medians(p, q)
    camps = review_by_camp(p)
    kpis = [
        Kpi(
            "completions",
            _("本期完课人次"),
            INT,
            sum(r["completed_p"] for r in courses),
            sum(r["completed_q"] for r in courses),
            DEF_COMPLETION,
        ),
        Kpi(
            "completion_rate",
            _("完课率（累计）"),
            RATE,
            rate(completed, learners),
            None,
            DEF_COMPLETION,
            snapshot=True,
        ),
        Kpi("checkin_rate", _("训练营打卡率"), RATE, checkin_p, checkin_q, DEF_CHECKIN),
        Kpi(
            "review_median",
            _("点评中位时长"),
            SECONDS,
            medians.get("p", (None, 0))[0],
            medians.get("q", (None, 0))[0],
            DEF_REVIEW,
        ),
    ]
    tables = [
        Table(
            "course_completion",
            _("课程完课率"),
            DEF_COMPLETION,
            [
                Column("course", _("课程"), TEXT),
                Column("lessons", _("课时数"), INT),
                Column("learners", _("开始学习"), INT),
                Column("completed", _("已学完"), INT),
                Column("completion_rate", _("完课率"), RATE),
                Column("completed_p", _("本期完课"), INT),
                Column("completed_q", _("上期完课"), INT),
            ],
            course_rows,
            Chart("bar", "course", ("completion_rate",), horizontal=True),
        ),
        Table(
            "checkin_by_day",
            _("训练营打卡率（按营期第 N 天）"),
            DEF_CHECKIN,
            [
                Column("day", _("营期第几天"), TEXT),
                Column("possible", _("应打卡"), INT),
                Column("done", _("已打卡"), INT),
                Column("checkin_rate", _("打卡率"), RATE),
                Column("checkin_rate_prev", _("上期打卡率"), RATE),
            ],
            day_rows,
            Chart("line", "day", ("checkin_rate", "checkin_rate_prev")),
        ),
        Table(
            "checkin_by_term",
            _("营期打卡概况"),
            _(
                "与周期有交集的营期：在营学员、已进行天数、有效打卡天数合计、打卡率 = 打卡天数 ÷（学员 × 已进行天数）、已结营学员。"
            ),
            [
                Column("term", _("营期"), TEXT),
                Column("start", _("开营日期"), TEXT),
                Column("seats", _("在营学员"), INT),
                Column("days_run", _("已进行天数"), INT),
                Column("checkins", _("打卡天数"), INT),
                Column("checkin_rate", _("打卡率"), RATE),
                Column("completed", _("已结营"), INT),
            ],
            term_rows,
        ),
        Table(
            "review_time",
            _("点评时长（按训练营）"),
            DEF_REVIEW,
            [
                Column("camp", _("训练营"), TEXT),
                Column("reviewed", _("本期点评数"), INT),
                Column("median", _("点评中位时长"), SECONDS),
                Column("waiting", _("待点评"), INT),
                Column("oldest_wait", _("最久等待"), SECONDS),
            ],
            camps,
            Chart("bar", "camp", ("median",)),
        ),
    ]
    return kpis, tables
