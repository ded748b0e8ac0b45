from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "拼团：过期退款",
        "referrals.tasks.expire_group_buys",
        every_seconds=60,
        description="Expire unfinished group buys and refund their paid orders.",
    ),
    PeriodicJob(
        "分润：月度结算",
        "referrals.tasks.close_staff_share_month",
        crontab={"minute": 0, "hour": 1, "day_of_month": 1},
        description="Close last month's staff progressive profit share and post it to the ledger.",
    ),
    PeriodicJob(
        "推广：发放积分奖励",
        "referrals.tasks.release_commission_points",
        crontab={"minute": 15, "hour": "*"},
        description="Award referral rewards paid as points once the refund window has passed.",
    ),
]
