"""payments: orders, payment attempts, inbound notifications, refunds and bill reconciliation.

State changes of an Order go through `payments.orders.transitions.order_transition` only (one table of legal
moves, one audit row per move); a Refund's through `refund_transition` (its table: `Refund.TRANSITIONS`). Every money write has a unique idempotency column:
`Payment.out_trade_no`, `Payment.transaction_id`, `Refund.out_refund_no`,
`PaymentNotification.notification_id`.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models.events import TransitionEvent

__all__ = [
    "Channel",
    "Order",
    "OrderEvent",
    "Platform",
    "Payment",
    "PaymentNotification",
    "ReconciliationMismatch",
    "ReconciliationRun",
    "Refund",
    "SandboxTrade",
]


class Channel(models.TextChoices):
    WECHAT_MINIPROGRAM = "wechat_miniprogram", _("微信小程序支付")
    WECHAT_JSAPI = "wechat_jsapi", _("微信内网页支付")
    WECHAT_NATIVE = "wechat_native", _("微信扫码支付")
    WECHAT_H5 = "wechat_h5", _("手机浏览器微信支付")
    SANDBOX = "sandbox", _("沙箱支付（演示）")


class Platform(models.TextChoices):
    """The client an order was placed from (`wx.getSystemInfo().platform` in the mini-program)."""

    WEB = "web", _("网页")
    IOS = "ios", _("iOS 小程序")
    ANDROID = "android", _("安卓小程序")
    OHOS = "ohos", _("鸿蒙小程序")
    WINDOWS = "windows", _("Windows 微信")
    MAC = "mac", _("Mac 微信")
    DEVTOOLS = "devtools", _("开发者工具")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待支付")
        PAID = "paid", _("已支付")
        CLOSED = "closed", _("已关闭")
        REFUNDING = "refunding", _("退款中")
        PARTIALLY_REFUNDED = "partially_refunded", _("部分退款")
        REFUNDED = "refunded", _("已退款")

    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("用户")
    )
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(_("商品ID"), max_length=64)
    title = models.CharField(_("商品名称"), max_length=200)
    list_price_fen = models.PositiveBigIntegerField(_("原价（分）"))
    discount_fen = models.PositiveBigIntegerField(_("优惠（分）"), default=0)
    amount_fen = models.PositiveBigIntegerField(_("应付（分）"))
    refunded_fen = models.PositiveBigIntegerField(_("已退款（分）"), default=0)
    status = models.CharField(
        _("状态"), max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    channel = models.CharField(_("支付渠道"), max_length=32, choices=Channel.choices)
    platform = models.CharField(
        _("客户端平台"), max_length=16, choices=Platform.choices, blank=True, default=""
    )
    referral_code = models.CharField(_("推荐码"), max_length=64, blank=True, default="")
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_orders",
        verbose_name=_("推荐人"),
    )
    # The paid order a zero-amount order stands for (a group-buy seat's gift): its funding chain.
    funded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funded_orders",
        verbose_name=_("资金来源订单"),
    )
    # The sales rep of record (销售顾问), captured at creation like the referrer: an app above payments
    # puts `sales_rep_id` in the quote context (a rep's own link, or a lead an operator assigned).
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_credited_orders",
        verbose_name=_("成交销售"),
    )
    # Quote.context (facts the item type wants back at fulfil time) and the price breakdown lines.
    context = models.JSONField(_("下单上下文"), default=dict, blank=True)
    lines = models.JSONField(_("价格明细"), default=list, blank=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    # The system's own mark that it owes this order a full refund (the item could not be delivered:
    # an event or camp filled while the member paid, or the member already had it). Set by
    # `payments.orders.refunds.order_auto_refund_mark` inside the paying transaction, never by hand;
    # the refund task (`courses.tasks.refund_order`) refunds only orders carrying it, so the task cannot be aimed at an
    # arbitrary order from beat's admin or a shell. A field, not an OrderEvent: the order does not move
    # state when it is marked, and the refund it leads to is audited as kind `system` naming this reason.
    auto_refund_due_at = models.DateTimeField(_("系统应退款时间"), null=True, blank=True)
    auto_refund_reason = models.CharField(_("系统退款原因"), max_length=200, blank=True, default="")
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__lte=models.F("list_price_fen")), name="order_amount_le_list"
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=models.F("amount_fen")), name="order_refunded_le_amount"
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | ~Q(status="pending"), name="order_pending_not_paid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.order_no

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen


class OrderEvent(TransitionEvent):
    """Audit row for each state transition of an order. Append-only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("订单"))

    class Meta(TransitionEvent.Meta):
        verbose_name = _("订单状态变更")
        verbose_name_plural = _("订单状态变更")


class Payment(models.Model):
    """One attempt to collect an order's amount through a channel (its own out_trade_no)."""

    class Status(models.TextChoices):
        CREATED = "created", _("已创建")
        PREPAID = "prepaid", _("已下单")
        SUCCEEDED = "succeeded", _("已支付")
        CLOSED = "closed", _("已关闭")
        FAILED = "failed", _("下单失败")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("订单")
    )
    channel = models.CharField(_("支付方式"), max_length=32, choices=Channel.choices)
    out_trade_no = models.CharField(_("商户订单号"), max_length=32, unique=True)
    transaction_id = models.CharField(_("微信支付单号"), max_length=64, null=True, blank=True, unique=True)
    amount_fen = models.PositiveBigIntegerField(_("支付金额（分）"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    payer_openid = models.CharField(_("付款人 OpenID"), max_length=128, blank=True, default="")
    # Client parameters returned at prepay time (prepay_id / code_url / h5_url / sandbox url).
    client_params = models.JSONField(_("调起支付参数"), default=dict, blank=True)
    # True when this payment succeeded but the order was not paid by it (closed order, paid twice).
    needs_auto_refund = models.BooleanField(_("需自动退款"), default=False)
    error = models.CharField(_("错误信息"), max_length=255, blank=True, default="")
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    queried_at = models.DateTimeField(_("最近查询时间"), null=True, blank=True)
    query_count = models.PositiveSmallIntegerField(_("查询次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("支付记录")
        verbose_name_plural = _("支付记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.out_trade_no


class PaymentNotification(models.Model):
    """Every inbound WeChat Pay notification, stored raw before anything is done with it."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("已接收")
        PROCESSED = "processed", _("已处理")
        DUPLICATE = "duplicate", _("重复通知")
        REJECTED = "rejected", _("验证失败")
        ALERT = "alert", _("告警")
        ERROR = "error", _("处理出错")

    # Set only once processed successfully: a unique id is what makes redelivery harmless.
    notification_id = models.CharField(_("通知编号"), max_length=64, null=True, blank=True, unique=True)
    claimed_id = models.CharField(_("通知ID"), max_length=64, blank=True, default="", db_index=True)
    event_type = models.CharField(_("事件类型"), max_length=32, blank=True, default="")
    raw_body = models.TextField(_("原始报文"), blank=True, default="")
    headers = models.JSONField(_("请求头"), default=dict, blank=True)
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True, default="")
    verified = models.BooleanField(_("验签通过"), default=False)
    outcome = models.CharField(
        _("处理结果"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True
    )
    error = models.TextField(_("错误信息"), blank=True, default="")
    out_trade_no = models.CharField(_("商户订单号"), max_length=32, blank=True, default="", db_index=True)
    out_refund_no = models.CharField(_("商户退款单号"), max_length=64, blank=True, default="", db_index=True)
    resource = models.JSONField(_("解密内容"), default=dict, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.claimed_id or self.pk}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待提交")
        PROCESSING = "processing", _("退款中")
        SUCCEEDED = "succeeded", _("退款成功")
        CLOSED = "closed", _("退款关闭")
        ABNORMAL = "abnormal", _("退款异常")

    class Kind(models.TextChoices):
        SELF_SERVICE = "self", _("用户自助")
        OPERATOR = "operator", _("运营退款")
        AUTO = "auto", _("自动退款（重复或关闭后支付）")
        # Started by the system for a reason it recorded (order marked as owed a refund, group buy
        # failed, paid question unanswered); `reason` says why, the order's refund_requested event
        # names the cause. No person requested it, so `requested_by` stays empty.
        SYSTEM = "system", _("系统退款（无法履约）")

    ACTIVE = (Status.PENDING, Status.PROCESSING)
    # The only legal moves of a refund, made by `payments.orders.transitions.refund_transition`:
    # submitted to WeChat (processing), or ended (succeeded, closed, abnormal) from either active
    # state, since WeChat's final word may arrive before our submission is recorded. Ended is final.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset({Status.PROCESSING, Status.SUCCEEDED, Status.CLOSED, Status.ABNORMAL}),
        Status.PROCESSING: frozenset({Status.SUCCEEDED, Status.CLOSED, Status.ABNORMAL}),
        Status.SUCCEEDED: frozenset(),
        Status.CLOSED: frozenset(),
        Status.ABNORMAL: frozenset(),
    }

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("订单"))
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("支付记录")
    )
    out_refund_no = models.CharField(_("退款单号"), max_length=64, unique=True)
    refund_id = models.CharField(_("微信退款单号"), max_length=64, null=True, blank=True, unique=True)
    amount_fen = models.PositiveBigIntegerField(_("退款金额（分）"))
    reason = models.CharField(_("原因"), max_length=200, blank=True, default="")
    kind = models.CharField(_("退款类型"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("申请人"),
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive"),
            # One refund in flight per payment: concurrent requests cannot both start one.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(status__in=["pending", "processing"]),
                name="uniq_active_refund_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return self.out_refund_no


class SandboxTrade(models.Model):
    """WeChat's side of a sandbox payment (the sandbox plays WeChat; development and demo only)."""

    out_trade_no = models.CharField(_("商户订单号"), max_length=32, unique=True)
    trade_state = models.CharField(_("交易状态"), max_length=16, default="NOTPAY")
    transaction_id = models.CharField(_("微信支付单号"), max_length=64, blank=True, default="")
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    refunds = models.JSONField(
        _("退款记录"), default=dict, blank=True
    )  # out_refund_no -> {"refund_id", "amount", "status"}
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("沙箱交易")
        verbose_name_plural = _("沙箱交易")

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.trade_state}"


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("一致")
        MISMATCH = "mismatch", _("有差异")
        FAILED = "failed", _("下载失败")

    bill_date = models.DateField(_("账单日期"), unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    bill_rows = models.PositiveIntegerField(_("账单行数"), default=0)
    matched_rows = models.PositiveIntegerField(_("已核对行数"), default=0)
    mismatch_count = models.PositiveIntegerField(_("差异数"), default=0)
    error = models.TextField(_("错误信息"), blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("对账")
        verbose_name_plural = _("对账")
        ordering = ["-bill_date"]

    def __str__(self) -> str:
        return f"{self.bill_date} {self.status}"


class ReconciliationMismatch(models.Model):
    class Kind(models.TextChoices):
        MISSING_LOCAL = "missing_local", _("微信有、本地无或未支付")
        MISSING_BILL = "missing_bill", _("本地已支付、账单无")
        AMOUNT = "amount", _("金额不一致")
        REFUND = "refund", _("退款不一致")

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches", verbose_name=_("对账批次")
    )
    kind = models.CharField(_("差异类型"), max_length=16, choices=Kind.choices)
    out_trade_no = models.CharField(_("商户订单号"), max_length=32, blank=True, default="")
    transaction_id = models.CharField(_("微信支付单号"), max_length=64, blank=True, default="")
    bill_amount_fen = models.BigIntegerField(_("账单金额（分）"), null=True, blank=True)
    local_amount_fen = models.BigIntegerField(_("本地金额（分）"), null=True, blank=True)
    detail = models.CharField(_("说明"), max_length=255, blank=True, default="")
    resolved = models.BooleanField(_("已处理"), default=False)

    class Meta:
        verbose_name = _("对账差异")
        verbose_name_plural = _("对账差异")

    def __str__(self) -> str:
        return f"{self.kind} {self.out_trade_no}"
