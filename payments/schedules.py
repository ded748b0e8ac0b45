"""Default periodic jobs of payments (docs/architecture.md §6). Seeded, then owned by operators in admin."""

from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "订单：关闭过期未付订单并查询待支付订单",
        "payments.tasks.orders_sweep",
        every_seconds=60,
        description="Close expired unpaid orders; query WeChat for orders pending ≥5 and ≥15 minutes.",
    ),
    PeriodicJob(
        "账本：结算到期佣金与打赏",
        "payments.tasks.settle_earnings",
        crontab={"minute": 0, "hour": 2},
        description="Move matured held earnings to available (set-based, batched).",
    ),
    PeriodicJob(
        "账本：对账检查",
        "payments.tasks.ledger_check",
        crontab={"minute": 30, "hour": 3},
        description="Every transaction sums to zero; cached balances equal entries.",
    ),
    PeriodicJob(
        "提现：转账状态与确认超时",
        "payments.tasks.withdrawals_sweep",
        every_seconds=300,
        description="Query in-flight transfers; return expired unconfirmed transfers to available.",
    ),
    PeriodicJob(
        "微信支付：下载账单并对账",
        "payments.tasks.reconcile_bills",
        crontab={"minute": 30, "hour": 10},
        description="Download yesterday's WeChat Pay bill and list mismatches.",
    ),
]
