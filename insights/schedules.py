from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob("运营：日报", "insights.tasks.daily_report", crontab={"minute": 0, "hour": 8}),
    PeriodicJob(
        "运营：周报", "insights.tasks.weekly_report", crontab={"minute": 30, "hour": 8, "day_of_week": 1}
    ),
]
