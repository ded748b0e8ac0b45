from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "圈子：到期与付费问答超时退款",
        "circles.tasks.circles_sweep",
        crontab={"minute": 15, "hour": "*"},
        description="Expire circle memberships; refund paid questions left unanswered.",
    ),
]
