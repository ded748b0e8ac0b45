from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    # Before the reports: yesterday's link visits become a day of the funnel.
    PeriodicJob(
        "运营：推广链接访问日快照",
        "insights.tasks.link_visits_snapshot",
        crontab={"minute": 5, "hour": 0},
        description="把推广链接计数的当日增量记为一天，看板的获客漏斗按天统计访问。",
    ),
    PeriodicJob(
        "运营：用户质量表刷新",
        "insights.tasks.cohorts_refresh",
        every_seconds=600,
        description="每 10 分钟预先计算看板的“用户质量（按获客来源）”累计表，打开看板时无需等待。",
    ),
    PeriodicJob(
        "运营：日报",
        "insights.tasks.daily_report",
        crontab={"minute": 0, "hour": 8},
        description="昨日核心指标，发送到 OPERATIONS_REPORT_RECIPIENTS，并保存在 /ops/reports/。",
    ),
    PeriodicJob(
        "运营：周报",
        "insights.tasks.weekly_report",
        crontab={"minute": 30, "hour": 8, "day_of_week": 1},
        description="上周（周一至周日）核心指标，发送并保存。",
    ),
]
