from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "圈子：到期与付费问答超时退款",
        "circles.tasks.circles_sweep",
        crontab={"minute": 15, "hour": "*"},
        description="Expire circle memberships; refund paid questions left unanswered.",
    ),
    PeriodicJob(
        "圈子：定时发布帖子",
        "circles.tasks.posts_publish_due",
        every_seconds=60,
        description="Publish scheduled circle posts whose time has come and notify the circle once.",
    ),
]
