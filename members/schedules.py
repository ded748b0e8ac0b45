from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "会员：到期处理与续费提醒",
        "members.tasks.membership_sweep",
        crontab={"minute": 0, "hour": 9},
        description="Expire memberships; remind at 30/7/1 days before expiry.",
    ),
    PeriodicJob(
        "通知：重试未发出的订阅消息",
        "members.tasks.notifications_push_sweep",
        every_seconds=300,
        description="Re-send subscribe messages whose task was lost (broker down at commit time).",
    ),
]
