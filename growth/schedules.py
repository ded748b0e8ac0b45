from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "增长：发送到时的群发活动",
        "growth.tasks.campaigns_sweep",
        every_seconds=60,
        description="Start scheduled campaigns whose time has come and send each one's next rate-limited slice.",
    ),
    PeriodicJob(
        "增长：重算规则标签",
        "growth.tasks.rule_tags_recompute",
        crontab={"minute": 30, "hour": 3},
        description="Recompute every rule tag's members from its rule (adds and removes; idempotent).",
    ),
]
