"""payments: withdrawals of available earnings, their operator settings, and the sandbox's transfer bills.

A withdrawal moves money available → withdrawing when requested, then withdrawing → payout_clearing
when paid, or back to available when rejected, cancelled, failed or not confirmed in time. State
changes go through `payments.wallet.withdrawals.withdrawal_transition` (one table of legal moves, one
WithdrawalEvent per move). `out_bill_no` is the idempotency key at WeChat: fixed at creation and
reused on every retry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core import brand
from core.crypto import EncryptedTextField
from payments.models.events import TransitionEvent

__all__ = [
    "PayoutMethod",
    "SandboxTransfer",
    "Withdrawal",
    "WithdrawalEvent",
    "WithdrawalSettings",
]

DEFAULT_SCENE_REPORT_INFOS = [
    {"info_type": "岗位类型", "info_content": "推广员"},
    {"info_type": "报酬说明", "info_content": "推广佣金与内容收益"},
]


def _default_scene_report_infos() -> list[dict[str, str]]:
    return [dict(item) for item in DEFAULT_SCENE_REPORT_INFOS]


class WithdrawalSettings(models.Model):
    """Operator settings for withdrawals (a single row, pk=1)."""

    min_amount_fen = models.PositiveBigIntegerField(
        _("单笔最低提现（分）"), default=100, help_text=_("默认 1 元；微信商家转账最低 0.1 元")
    )
    max_amount_fen = models.PositiveBigIntegerField(_("单笔最高提现（分）"), default=5_000_000)
    daily_count_limit = models.PositiveSmallIntegerField(_("每人每日提现次数"), default=3)
    dual_approval_threshold_fen = models.PositiveBigIntegerField(
        _("双人审核起点（分）"),
        default=500_000,
        help_text=_("达到此金额的提现需两位不同的财务人员审核通过"),
    )
    transfer_scene_id = models.CharField(
        _("微信转账场景ID"),
        max_length=8,
        default="1005",
        help_text=_("商户平台开通的转账场景，如 1005 佣金报酬"),
    )
    transfer_remark = models.CharField(
        _("转账备注（用户可见）"),
        max_length=32,
        blank=True,
        default="",
        help_text=_("留空则用「站点简称 + 收益提现」"),
    )

    user_recv_perception = models.CharField(
        _("用户收款感知"), max_length=32, blank=True, default="", help_text=_("留空则按场景默认展示")
    )
    scene_report_infos = models.JSONField(
        _("转账场景报备信息"),
        default=_default_scene_report_infos,
        help_text=_('[{"info_type": "岗位类型", "info_content": "推广员"}, …]，按场景要求填写'),
    )

    class Meta:
        verbose_name = _("提现设置")
        verbose_name_plural = _("提现设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount_fen__gte=10), name="withdrawal_min_at_least_10_fen"
            ),
            models.CheckConstraint(
                condition=Q(max_amount_fen__gte=F("min_amount_fen")), name="withdrawal_max_ge_min"
            ),
        ]

    def __str__(self) -> str:
        return str(_("提现设置"))

    @classmethod
    def current(cls) -> WithdrawalSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def remark_text(self) -> str:
        """What the member reads on WeChat's transfer: the operator's remark, or the brand's default."""
        return self.transfer_remark or _("%(site)s收益提现") % {"site": brand.current().short_name}


class PayoutMethod(models.TextChoices):
    WECHAT = "wechat", _("微信零钱（商家转账）")
    BANK = "bank", _("银行卡（人工打款）")
    SANDBOX = "sandbox", _("沙箱转账（演示）")


# WeChat Pay's states of a merchant transfer (商家转账), as operators read them.
TRANSFER_STATE_LABELS = {
    "ACCEPTED": _("已受理"),
    "PROCESSING": _("转账中"),
    "TRANSFERING": _("转账中"),
    "WAIT_USER_CONFIRM": _("待用户确认收款"),
    "SUCCESS": _("转账成功"),
    "FAIL": _("转账失败"),
    "CANCELING": _("撤销中"),
    "CANCELLED": _("已撤销"),
}


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("待审核")
        APPROVED = "approved", _("审核通过，待打款")
        TRANSFERRING = "transferring", _("转账处理中")
        WAIT_USER_CONFIRM = "wait_user_confirm", _("待确认收款")
        PAID = "paid", _("已到账")
        FAILED = "failed", _("转账失败，已退回")
        REJECTED = "rejected", _("已驳回，已退回")
        CANCELLED = "cancelled", _("已撤销，已退回")
        EXPIRED = "expired", _("超时未确认，已退回")

    IN_FLIGHT = (
        Status.PENDING_REVIEW,
        Status.APPROVED,
        Status.TRANSFERRING,
        Status.WAIT_USER_CONFIRM,
    )
    RETURNED = (Status.FAILED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals", verbose_name=_("会员")
    )
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    method = models.CharField(_("提现方式"), max_length=16, choices=PayoutMethod.choices)
    status = models.CharField(
        _("状态"), max_length=24, choices=Status.choices, default=Status.PENDING_REVIEW, db_index=True
    )
    # The member's own idempotency key for the request (a double tap returns the same withdrawal).
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, default="")
    # WeChat's idempotency key: fixed at creation, reused on every retry of the transfer.
    out_bill_no = models.CharField(_("商户单号"), max_length=32, unique=True)
    transfer_bill_no = models.CharField(_("微信转账单号"), max_length=64, null=True, blank=True, unique=True)
    transfer_state = models.CharField(_("微信转账状态"), max_length=24, blank=True, default="")
    package_info = models.TextField(_("确认收款参数"), blank=True, default="")
    payee_appid = models.CharField(_("收款 AppID"), max_length=64, blank=True, default="")
    payee_openid = models.CharField(_("收款 OpenID"), max_length=128, blank=True, default="")
    # Personal data, encrypted at rest (core/crypto.py): required by WeChat from ¥2,000 and for bank payouts.
    real_name = EncryptedTextField(_("收款人姓名"), blank=True, default="")
    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True, default="")
    bank_account = EncryptedTextField(_("银行卡号"), blank=True, default="")
    bank_reference = models.CharField(_("银行打款流水号"), max_length=128, blank=True, default="")
    needs_second_approval = models.BooleanField(_("需双人审核"), default=False)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("一审人"),
    )
    first_approved_at = models.DateTimeField(_("一审时间"), null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("二审人"),
    )
    second_approved_at = models.DateTimeField(_("二审时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reject_reason = models.CharField(_("驳回原因"), max_length=200, blank=True, default="")
    fail_reason = models.CharField(_("失败原因"), max_length=200, blank=True, default="")
    # True from the moment a transfer request may have reached WeChat until its answer is recorded:
    # the next attempt must query first (a new out_bill_no could pay twice; we never make one).
    outcome_unknown = models.BooleanField(_("结果待确认"), default=False)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True, default="")
    submitted_at = models.DateTimeField(_("提交转账时间"), null=True, blank=True)
    confirm_deadline = models.DateTimeField(_("确认收款截止"), null=True, blank=True, db_index=True)
    queried_at = models.DateTimeField(_("最近查询时间"), null=True, blank=True)
    paid_at = models.DateTimeField(_("到账时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("提现")
        verbose_name_plural = _("提现")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="withdrawal_amount_positive"),
            models.UniqueConstraint(
                fields=["user", "request_id"], condition=~Q(request_id=""), name="withdrawal_uniq_request_id"
            ),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True) | ~Q(second_approved_by=F("first_approved_by")),
                name="withdrawal_two_different_approvers",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="withdrawal_paid_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="withdrawal_user_recent_idx"),
            models.Index(fields=["status", "created_at"], name="withdrawal_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.out_bill_no} {self.amount_fen} ({self.status})"

    @property
    def approvals(self) -> int:
        return int(bool(self.first_approved_by_id)) + int(bool(self.second_approved_by_id))

    @property
    def returned(self) -> bool:
        return self.status in self.RETURNED


class WithdrawalEvent(TransitionEvent):
    """Audit row for each state change of a withdrawal. Append-only."""

    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.CASCADE, related_name="events", verbose_name=_("提现")
    )

    class Meta(TransitionEvent.Meta):
        verbose_name = _("提现状态变更")
        verbose_name_plural = _("提现状态变更")


class SandboxTransfer(models.Model):
    """WeChat's side of a sandbox transfer bill (development and demo only)."""

    out_bill_no = models.CharField(_("商户转账单号"), max_length=32, unique=True)
    transfer_bill_no = models.CharField(_("转账单号"), max_length=64)
    state = models.CharField(_("转账状态"), max_length=24, default="WAIT_USER_CONFIRM")
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    openid = models.CharField(_("微信 OpenID"), max_length=128, blank=True, default="")
    fail_reason = models.CharField(_("失败原因"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("沙箱转账")
        verbose_name_plural = _("沙箱转账")

    def __str__(self) -> str:
        return f"{self.out_bill_no} {self.state}"
