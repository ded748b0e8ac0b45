"""Reporting periods: whole days in Asia/Shanghai, the previous period of the same length, chart buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_DAYS = 731  # two years: longer spans are refused (the dashboard is for decisions, not archaeology)
# Earlier dates are typos (0001-01-01 would also overflow the previous period's arithmetic: a 500).
EARLIEST = date(2000, 1, 1)

PRESETS = [
    ("7d", _("近7天")),
    ("30d", _("近30天")),
    ("90d", _("近90天")),
    ("month", _("本月")),
    ("last_month", _("上月")),
    ("365d", _("近一年")),
]


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """[start, end] as local dates, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return local_midnight(self.end + timedelta(days=1))

    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    @property
    def granularity(self) -> str:
        if self.days <= 62:
            return "day"
        if self.days <= 210:
            return "week"
        return "month"

    def buckets(self) -> list[date]:
        """The first day of every chart bucket in the period (weeks start on Monday)."""
        step = self.granularity
        if step == "day":
            return [self.start + timedelta(days=i) for i in range(self.days)]
        if step == "week":
            first = self.start - timedelta(days=self.start.weekday())
            out, cur = [], first
            while cur <= self.end:
                out.append(cur)
                cur += timedelta(days=7)
            return out
        out, cur = [], self.start.replace(day=1)
        while cur <= self.end:
            out.append(cur)
            cur = (cur.replace(day=28) + timedelta(days=4)).replace(day=1)
        return out

    def bucket_label(self, day: date) -> str:
        if self.granularity == "month":
            return day.strftime("%Y-%m")
        return day.strftime("%m-%d")

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} ~ {self.end:%Y-%m-%d}"

    def query(self) -> str:
        return f"start={self.start:%Y-%m-%d}&end={self.end:%Y-%m-%d}"


def preset_period(name: str, *, today: date | None = None) -> Period | None:
    today = today or timezone.localdate()
    if name.endswith("d") and name[:-1].isdigit():
        n = int(name[:-1])
        if 1 <= n <= MAX_DAYS:
            return Period(today - timedelta(days=n - 1), today)
        return None
    if name == "month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end)
    return None


def default_period(today: date | None = None) -> Period:
    period = preset_period("30d", today=today)
    assert period is not None  # "30d" is a valid preset
    return period


class PeriodError(ValueError):
    pass


def parse_period(params, *, today: date | None = None) -> Period:
    """From ?range=30d or ?start=YYYY-MM-DD&end=YYYY-MM-DD; raises PeriodError with a readable message."""
    today = today or timezone.localdate()
    preset = (params.get("range") or "").strip()
    start_raw, end_raw = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if preset and not (start_raw or end_raw):
        period = preset_period(preset, today=today)
        if period is None:
            raise PeriodError(_("未知的时间范围"))
        return period
    if not (start_raw or end_raw):
        return default_period(today)
    try:
        start = date.fromisoformat(start_raw) if start_raw else None
        end = date.fromisoformat(end_raw) if end_raw else today
    except ValueError:
        raise PeriodError(_("日期格式应为 YYYY-MM-DD")) from None
    if end < EARLIEST or (start is not None and start < EARLIEST):
        raise PeriodError(_("日期不能早于 %(day)s") % {"day": EARLIEST.isoformat()})
    if start is None:
        start = end - timedelta(days=29)
    if end > today:
        end = today
    if start > end:
        raise PeriodError(_("开始日期不能晚于结束日期"))
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(_("时间范围最长两年"))
    return Period(start, end)
