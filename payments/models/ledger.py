"""payments: the double-entry ledger (accounts, transactions, entries) and members' earnings.

Invariants, each enforced by the database and not only by `payments.wallet.ledger`:
- every transaction's entries sum to zero: on PostgreSQL a statement-level trigger checks every
  ledger transaction an INSERT into entries touched (migration 0003); the Python path checks it
  before writing on every backend (SQLite, the demo, has no transition tables);
- entries and transactions are append-only: triggers refuse UPDATE and DELETE (PostgreSQL and SQLite);
  corrections are new transactions;
- member balances have sign constraints (pending/available/withdrawing ≥ 0, receivable ≤ 0).

Sign convention: amounts are what the platform owes the member. A member's `earnings_*` accounts are
≥ 0; `receivable` is ≤ 0 (negative = the member owes the platform, after a clawback). System accounts
(`commission_expense`, `tips_clearing`, `payout_clearing`, …) carry the opposite side. Member
accounts cache their balance (updated in the same transaction as the entries); system accounts are
not cached — they would be one hot row every earning in the country waits on — and are summed from
their entries when shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Account",
    "AccountKind",
    "Earning",
    "Entry",
    "LedgerCheckRun",
    "MEMBER_ACCOUNT_KINDS",
    "SettlementRun",
    "SYSTEM_ACCOUNT_KINDS",
    "Transaction",
]


class AccountKind(models.TextChoices):
    # a member's accounts
    EARNINGS_PENDING = "earnings_pending", _("待结算收益")
    EARNINGS_AVAILABLE = "earnings_available", _("可提现收益")
    EARNINGS_WITHDRAWING = "earnings_withdrawing", _("提现中")
    RECEIVABLE = "receivable", _("应收欠款")
    # system accounts (the other side of every member movement)
    COMMISSION_EXPENSE = "commission_expense", _("推广佣金支出")
    STAFF_SHARE_EXPENSE = "staff_share_expense", _("员工分润支出")
    TIPS_CLEARING = "tips_clearing", _("打赏清算")
    QA_CLEARING = "qa_clearing", _("付费问答清算")
    EARNINGS_EXPENSE = "earnings_expense", _("其他收益支出")
    ADJUSTMENTS = "adjustments", _("人工调整")
    PAYOUT_CLEARING = "payout_clearing", _("提现出款清算")


MEMBER_ACCOUNT_KINDS = (
    AccountKind.EARNINGS_PENDING,
    AccountKind.EARNINGS_AVAILABLE,
    AccountKind.EARNINGS_WITHDRAWING,
    AccountKind.RECEIVABLE,
)
SYSTEM_ACCOUNT_KINDS = tuple(k for k in AccountKind if k not in MEMBER_ACCOUNT_KINDS)


class Account(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
        verbose_name=_("会员"),
    )
    kind = models.CharField(_("科目"), max_length=32, choices=AccountKind.choices)
    # Cached sum of this account's entries (member accounts only; NULL for system accounts).
    balance_fen = models.BigIntegerField(_("余额（分）"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], condition=Q(user__isnull=False), name="ledger_uniq_member_account"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(user__isnull=True), name="ledger_uniq_system_account"
            ),
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, kind__in=MEMBER_ACCOUNT_KINDS, balance_fen__isnull=False)
                    | Q(user__isnull=True, kind__in=SYSTEM_ACCOUNT_KINDS, balance_fen__isnull=True)
                ),
                name="ledger_account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(
                    kind__in=[
                        AccountKind.EARNINGS_PENDING,
                        AccountKind.EARNINGS_AVAILABLE,
                        AccountKind.EARNINGS_WITHDRAWING,
                    ]
                )
                | Q(balance_fen__gte=0),
                name="ledger_member_earnings_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AccountKind.RECEIVABLE) | Q(balance_fen__lte=0),
                name="ledger_receivable_not_positive",
            ),
        ]

    def __str__(self) -> str:
        owner = f"#{self.user_id}" if self.user_id else _("平台")
        return f"{owner} {self.get_kind_display()}"

    @property
    def is_system(self) -> bool:
        return self.user_id is None


class Transaction(models.Model):
    """One business fact (accrual, void, settlement, clawback, withdrawal step). Append-only."""

    class Kind(models.TextChoices):
        ACCRUE = "accrue", _("收益入账（冻结）")
        VOID = "void", _("冻结期内作废")
        SETTLE = "settle", _("结算到可提现")
        CLAWBACK = "clawback", _("结算后追回")
        DEDUCT = "deduct", _("扣减")
        WITHDRAW = "withdraw", _("申请提现")
        PAYOUT = "payout", _("提现出款")
        PAYOUT_RETURN = "payout_return", _("提现退回")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
        verbose_name=_("会员"),
    )
    # The business fact this records: "earning:12", "withdrawal:3", "settlement_run:7".
    reference = models.CharField(_("关联"), max_length=64, blank=True, default="", db_index=True)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("账务交易")
        verbose_name_plural = _("账务交易")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.idempotency_key}"


class Entry(models.Model):
    """One signed movement on one account. Never updated or deleted."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("交易")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("账户")
    )
    amount_fen = models.BigIntegerField(_("金额（分）"))

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_fen:+d}"


class SettlementRun(models.Model):
    """One run of the settlement job (several may overlap; each earning records the run that settled it)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        FINISHED = "finished", _("已完成")
        FAILED = "failed", _("失败")

    cutoff = models.DateTimeField(_("结算截止时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    batches = models.PositiveIntegerField(_("批次数"), default=0)
    earnings_count = models.PositiveIntegerField(_("结算笔数"), default=0)
    members_count = models.PositiveIntegerField(_("会员人次"), default=0)
    amount_fen = models.BigIntegerField(_("结算金额（分）"), default=0)
    repaid_fen = models.BigIntegerField(_("偿还欠款（分）"), default=0)
    max_batch_ms = models.FloatField(_("最长批次锁定（毫秒）"), default=0)
    # Not a column: settle_due fills it per run for callers that report the distribution (the bench).
    batch_times_ms: list[float]
    error = models.TextField(_("错误信息"), blank=True, default="")
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("结算批次")
        verbose_name_plural = _("结算批次")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status} {self.earnings_count}"


class Earning(models.Model):
    """Money a member earned (commission, tip, Q&A fee, staff share …): held, then settled.

    `reversed_fen` counts what was voided (while held) or clawed back (after settlement).
    """

    class Status(models.TextChoices):
        HELD = "held", _("冻结中")
        SETTLED = "settled", _("已结算")
        VOIDED = "voided", _("已作废")
        CLAWED_BACK = "clawed_back", _("已追回")

    class Source(models.TextChoices):
        COMMISSION = "commission", _("推广佣金")
        COMMISSION_L2 = "commission_l2", _("二级推广佣金")
        TIP = "tip", _("打赏")
        QA_FEE = "qa_fee", _("付费问答")
        STAFF_SHARE = "staff_share", _("员工分润")
        ADJUSTMENT = "adjustment", _("人工调整")

    # No single-column index: (user, -id) below serves lookups by member. Every index here is written
    # again when settlement changes a row's status (no HOT update), so each one must earn its place.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="earnings",
        verbose_name=_("会员"),
        db_index=False,
    )
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    reversed_fen = models.PositiveBigIntegerField(_("已冲回（分）"), default=0)
    # Open set: the choices above are labels for the known ones; apps may add sources.
    source = models.CharField(_("来源"), max_length=32)
    order = models.ForeignKey(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="earnings",
        verbose_name=_("来源订单"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.HELD)
    hold_until = models.DateTimeField(_("冻结至"))
    idempotency_key = models.CharField(_("幂等键"), max_length=150, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    settled_run = models.ForeignKey(
        SettlementRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="earnings",
        verbose_name=_("结算批次"),
        db_index=False,  # runs are never deleted; nothing hot looks earnings up by run
    )
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("入账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收益")
        verbose_name_plural = _("收益")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="earning_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_fen__lte=F("amount_fen")), name="earning_reversed_le_amount"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["settled", "clawed_back"], settled_run__isnull=False)
                | Q(status__in=["held", "voided"], settled_run__isnull=True),
                name="earning_settled_iff_run",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["voided", "clawed_back"], reversed_fen=F("amount_fen"))
                | Q(status__in=["held", "settled"], reversed_fen__lt=F("amount_fen")),
                name="earning_status_matches_reversed",
            ),
        ]
        indexes = [
            # The settlement job walks held earnings in (user, id) order (keyset, SKIP LOCKED).
            models.Index(fields=["user", "id"], condition=Q(status="held"), name="earning_held_user_idx"),
            models.Index(fields=["user", "-id"], name="earning_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.amount_fen} → #{self.user_id} ({self.status})"

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.reversed_fen

    @property
    def source_label(self) -> str:
        return str(dict(self.Source.choices).get(self.source, self.source))


class LedgerCheckRun(models.Model):
    """The result of one `ledger_check` (command, daily task or admin button). Operators see these."""

    class Trigger(models.TextChoices):
        COMMAND = "command", _("命令行")
        TASK = "task", _("定时任务")
        ADMIN = "admin", _("后台手动")

    trigger = models.CharField(_("触发方式"), max_length=16, choices=Trigger.choices)
    ok = models.BooleanField(_("通过"), default=False)
    transactions_checked = models.PositiveBigIntegerField(_("交易数"), default=0)
    entries_checked = models.PositiveBigIntegerField(_("分录数"), default=0)
    accounts_checked = models.PositiveBigIntegerField(_("账户数"), default=0)
    problem_count = models.PositiveIntegerField(_("问题数"), default=0)
    first_problem = models.TextField(_("第一个差异"), blank=True, default="")
    problems = models.JSONField(_("差异明细（前 50 条）"), default=list, blank=True)
    duration_ms = models.FloatField(_("耗时（毫秒）"), default=0)
    created_at = models.DateTimeField(_("检查时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("账本检查")
        verbose_name_plural = _("账本检查")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'FAILED'}"
