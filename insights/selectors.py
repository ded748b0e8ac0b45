"""Reads of the insights app: the dashboard for a period (KPIs and sections of tables), one table by key."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from insights.metrics.base import Kpi, Section, Table
from insights.metrics.cohorts import cohorts
from insights.metrics.funnel import funnel
from insights.metrics.learning import learning
from insights.metrics.promotions import promotions
from insights.metrics.referrals import referrals
from insights.metrics.retention import retention
from insights.metrics.revenue import revenue
from insights.periods import Period

SECTION_TITLES = {
    "revenue": (
        gettext_lazy("收入"),
        gettext_lazy("GMV、退款、净收入，按商品类型和支付渠道；新付费会员、续费和升级。"),
    ),
    "funnel": (
        gettext_lazy("获客漏斗"),
        gettext_lazy("推广链接访问 → 注册 → 首次付费，按获客渠道和推广链接。"),
    ),
    "retention": (
        gettext_lazy("留存"),
        gettext_lazy("复购率、会员续费率、圈子退群率，以及未来 30 天的续费管道。"),
    ),
    "learning": (gettext_lazy("学习"), gettext_lazy("课程完课率、训练营每日打卡率、老师点评时长。")),
    "referrals": (
        gettext_lazy("推广"),
        gettext_lazy("推广收入占比、推广员排行、推广员退款率（防刷单信号）、佣金冻结/可提现/已提现。"),
    ),
    "promotions": (
        gettext_lazy("增长活动"),
        gettext_lazy(
            "每张优惠券、每个兑换码批次、每场限时特价和每次群发活动在本期带来的订单、GMV、优惠、退款、新会员和佣金。"
        ),
    ),
    "cohorts": (
        gettext_lazy("用户质量（按获客来源）"),
        gettext_lazy("不同渠道、不同推广员带来的用户，付费、完课和续费表现如何（累计）。"),
    ),
}


@dataclass
class Dashboard:
    period: Period
    previous: Period
    kpis: list[Kpi]
    sections: list[Section]

    def table(self, key: str) -> Table | None:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        return None


def _section(key: str, tables: list[Table]) -> Section:
    title, intro = SECTION_TITLES[key]
    return Section(key, title, intro, tables)


def dashboard(period: Period, *, only: str | None = None) -> Dashboard:
    """Every metric for `period` compared with the previous period of the same length.

    `only` computes one section (a CSV export of one of its tables); the referrals section also
    needs the revenue totals. The number of SQL statements does not depend on the amount of data.

    One transaction: on PostgreSQL with JIT compilation off for it — the correlated aggregates look
    expensive enough to the planner to trigger JIT, which then costs more (tens of ms per statement)
    than the statements themselves on tables of this size.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _dashboard(period, only=only)


def _dashboard(period: Period, *, only: str | None) -> Dashboard:
    p, q = period, period.previous()
    kpis: list[Kpi] = []
    sections: list[Section] = []
    facts: dict = {}
    if only in (None, "revenue", "referrals"):
        k, tables, facts = revenue(p, q)
        if only in (None, "revenue"):
            kpis += k
            sections.append(_section("revenue", tables))
    if only in (None, "funnel"):
        k, tables = funnel(p, q)
        kpis += k
        sections.append(_section("funnel", tables))
    if only in (None, "retention"):
        k, tables = retention(p, q)
        kpis += k
        sections.append(_section("retention", tables))
    if only in (None, "learning"):
        k, tables = learning(p, q)
        kpis += k
        sections.append(_section("learning", tables))
    if only in (None, "referrals"):
        k, tables = referrals(p, q, facts)
        kpis += k
        sections.append(_section("referrals", tables))
    if only in (None, "promotions"):
        sections.append(_section("promotions", promotions(p)))
    if only in (None, "cohorts"):
        sections.append(_section("cohorts", cohort_tables()))
    return Dashboard(period=p, previous=q, kpis=kpis, sections=sections)


COHORT_CACHE_KEY = "insights:cohorts:v1:{language}"


def cohort_tables(*, refresh: bool = False) -> list[Table]:
    """The cohort tables are cumulative (all users, all time) and the costliest to compute: they are
    kept in the cache for INSIGHTS_COHORT_CACHE_SECONDS (default 10 minutes; 0 turns this off) and
    refreshed ahead of time by the `insights.tasks.cohorts_refresh` periodic task."""
    seconds = getattr(settings, "INSIGHTS_COHORT_CACHE_SECONDS", 600)
    if not seconds:
        return cohorts()
    key = COHORT_CACHE_KEY.format(language=get_language())
    tables = None if refresh else cache.get(key)
    if tables is None:
        tables = cohorts()
        computed = timezone.localtime().strftime("%H:%M")
        for table in tables:
            table.note = _("累计数据每 %(m)s 分钟更新一次，本次计算于 %(t)s。") % {
                "m": max(1, seconds // 60),
                "t": computed,
            }
        # Kept twice as long as the refresh interval, so a late refresh never leaves a cold page.
        cache.set(key, tables, seconds * 2)
    return tables


# Which section owns each exportable table (a CSV export computes only that section).
TABLE_SECTIONS = {
    "revenue_over_time": "revenue",
    "revenue_by_item_type": "revenue",
    "revenue_by_channel": "revenue",
    "membership_movements": "revenue",
    "funnel_by_channel": "funnel",
    "funnel_by_link": "funnel",
    "repurchase": "retention",
    "renewal_by_tier": "retention",
    "circle_churn": "retention",
    "renewal_pipeline": "retention",
    "course_completion": "learning",
    "checkin_by_day": "learning",
    "checkin_by_term": "learning",
    "review_time": "learning",
    "referral_share": "referrals",
    "top_promoters": "referrals",
    "promoter_refund_watch": "referrals",
    "commission_status": "referrals",
    "commission_flows": "referrals",
    "promotion_coupons": "promotions",
    "promotion_redeem_batches": "promotions",
    "promotion_flash_sales": "promotions",
    "promotion_campaigns": "promotions",
    "cohort_by_channel": "cohorts",
    "cohort_by_promoter": "cohorts",
}


def dashboard_table(key: str, period: Period) -> Table | None:
    section = TABLE_SECTIONS.get(key)
    if section is None:
        return None
    return dashboard(period, only=section).table(key)
