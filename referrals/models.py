"""Referrals: who brought whom, what they earn for real sales, group buys and the staff profit share.

Compliance is designed into the schema (docs/architecture.md §2):
- a commission is tied to a paid order (`Commission.order`), never to a sign-up;
- commission levels are 1 (the direct referrer) or 2 (opt-in): CHECK constraints on every table that
  carries a level make depth > 2 impossible, even for raw ORM writes;
- a binding never points at oneself (CHECK) and a user has at most one active binding (partial UNIQUE);
- each commission row is unique per (order, level) — the idempotency key of the accrual.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, mask_phone

MAX_COMMISSION_LEVEL = 2


class ReferralSettings(models.Model):
    """Operator settings (a single row, pk=1)."""

    binding_validity_days = models.PositiveIntegerField(
        _("绑定有效期（天）"),
        default=365,
        help_text=_("客户与推广员的绑定关系保持多久；0 表示永久有效。过期后客户可被新的推广链接重新绑定。"),
    )
    protection_days = models.PositiveIntegerField(
        _("客户保护期（天）"),
        default=30,
        help_text=_("保护期内，即使开启“分享链接优先”，其他推广员的链接也不能抢走已绑定客户。"),
    )
    share_link_overrides_binding = models.BooleanField(
        _("分享链接优先于绑定关系"),
        default=False,
        help_text=_("开启后，客户通过另一位推广员的分享链接下单时，该订单的佣金归分享者（保护期外）。"),
    )
    commission_depth = models.PositiveSmallIntegerField(
        _("分佣层级"),
        default=1,
        choices=[(1, _("仅一级（直接推荐人）")), (2, _("二级（需确认合规风险）"))],
        help_text=_("默认只给直接推荐人分佣。二级分佣存在被认定为传销的风险，三级及以上在数据库层面禁止。"),
    )
    level2_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("二级分佣风险确认人"),
    )
    level2_acknowledged_at = models.DateTimeField(_("二级分佣风险确认时间"), null=True, blank=True)
    earning_requires_membership = models.BooleanField(
        _("仅会员可获得佣金"),
        default=False,
        help_text=_("不建议开启：把购买作为推广资格的条件，有“入门费”之嫌。"),
    )
    leaderboard_size = models.PositiveSmallIntegerField(_("排行榜人数"), default=10)

    class Meta:
        verbose_name = _("推广设置")
        verbose_name_plural = _("推广设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_depth__gte=1) & Q(commission_depth__lte=MAX_COMMISSION_LEVEL),
                name="referral_settings_depth_at_most_2",
            ),
            models.CheckConstraint(
                condition=Q(binding_validity_days=0) | Q(protection_days__lte=F("binding_validity_days")),
                name="referral_protection_within_validity",
            ),
        ]

    def __str__(self) -> str:
        return str(_("推广设置"))

    @classmethod
    def current(cls) -> ReferralSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


# ---- promoters, levels, prices, agreements -----------------------------------------------------------


class PromoterLevel(models.Model):
    """A promoter level (普通 / KOL / 核心): its commission rate and promoter prices.

    Levels are granted by operators or automatically on real sales (never on recruiting: the
    thresholds count paid, non-refunded orders the promoter referred).
    """

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("级别"), unique=True, help_text=_("数字越大级别越高"))
    commission_rate_bp = models.PositiveIntegerField(
        _("直推佣金比例（基点）"),
        null=True,
        blank=True,
        help_text=_(
            "1000 = 10%。留空则按佣金规则；填写后，参与分佣的商品对该级别推广员按此比例（指定该级别的规则优先）。"
        ),
    )
    is_default = models.BooleanField(_("默认级别"), default=False, help_text=_("所有人默认的级别，无需购买"))
    auto_min_sales_fen = models.PositiveBigIntegerField(
        _("自动升级：推广实收金额（分）"),
        null=True,
        blank=True,
        help_text=_("推广成交（扣除退款）累计达到即升级"),
    )
    auto_min_orders = models.PositiveIntegerField(_("自动升级：推广成交单数"), null=True, blank=True)
    grant_tier = models.ForeignKey(
        "members.MembershipTier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("会员自动享有"),
        help_text=_(
            "持有该会员等级（或更高）的会员至少按此级别计佣：会员可提高佣金比例，但推广资格本身不要求购买。"
        ),
    )
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("推广员级别")
        verbose_name_plural = _("推广员级别")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate_bp__isnull=True) | Q(commission_rate_bp__lte=10000),
                name="promoter_level_rate_at_most_100pct",
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_promoter_level"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_auto_rule(self) -> bool:
        return self.auto_min_sales_fen is not None or self.auto_min_orders is not None


class Promoter(models.Model):
    """A user's promoter profile, created on first need (every user may promote without buying)."""

    class LevelSource(models.TextChoices):
        DEFAULT = "default", _("默认")
        OPERATOR = "operator", _("运营设置")
        AUTO = "auto", _("业绩自动升级")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="promoter")
    level = models.ForeignKey(
        PromoterLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promoters",
        verbose_name=_("级别"),
    )
    level_source = models.CharField(
        _("级别来源"), max_length=16, choices=LevelSource.choices, default=LevelSource.DEFAULT
    )
    level_changed_at = models.DateTimeField(_("级别变更时间"), null=True, blank=True)
    is_blocked = models.BooleanField(_("停止推广资格"), default=False)
    blocked_reason = models.CharField(_("停止原因"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("推广员")
        verbose_name_plural = _("推广员")

    def __str__(self) -> str:
        return str(self.user)


class PromoterPrice(models.Model):
    """A price for one item at one promoter level (retail ¥5,000 → KOL ¥4,000 → 核心 ¥3,000)."""

    class AppliesTo(models.TextChoices):
        SELF = "self", _("推广员本人购买（自购价）")
        REFERRED = "referred", _("推广员的客户购买（专享价）")

    level = models.ForeignKey(PromoterLevel, on_delete=models.CASCADE, related_name="prices")
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(
        _("商品ID"), max_length=64, help_text=_("会员为等级代码（如 VIP），其余为数字ID")
    )
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    applies_to = models.CharField(
        _("适用于"), max_length=16, choices=AppliesTo.choices, default=AppliesTo.SELF
    )

    class Meta:
        verbose_name = _("推广价")
        verbose_name_plural = _("推广价")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "item_type", "item_id", "applies_to"], name="uniq_promoter_price"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.item_type}:{self.item_id} {self.price_fen}"


class PromoterAgreement(models.Model):
    """A version of the promoter agreement (推广员协议). Published versions are never edited."""

    version = models.PositiveIntegerField(_("版本号"), unique=True)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    requires_reacceptance = models.BooleanField(
        _("需重新确认"), default=True, help_text=_("发布后，推广员须同意此版本才能继续获得佣金")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("推广员协议")
        verbose_name_plural = _("推广员协议")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()


class AgreementAcceptance(models.Model):
    """A promoter accepted one version of the agreement (append-only record)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="promoter_agreement_acceptances"
    )
    agreement = models.ForeignKey(PromoterAgreement, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(_("同意时间"), auto_now_add=True)
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("协议确认记录")
        verbose_name_plural = _("协议确认记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "agreement"], name="uniq_agreement_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} v{self.agreement_id}"


# ---- attribution ---------------------------------------------------------------------------------------


class ReferralBinding(models.Model):
    """`user` was brought by `referrer`. One active binding per user; history is kept (ended rows)."""

    class Source(models.TextChoices):
        SIGNUP = "signup", _("注册时")
        PURCHASE = "purchase", _("首次购买时")
        OPERATOR = "operator", _("运营调整")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_bindings"
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referred_bindings"
    )
    code = models.CharField(_("使用的推荐码"), max_length=16, blank=True, default="")
    channel = models.CharField(_("渠道"), max_length=20, blank=True, default="")
    source = models.CharField(_("绑定方式"), max_length=16, choices=Source.choices)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True, help_text=_("空 = 永久"))
    protected_until = models.DateTimeField(_("保护期至"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("推荐关系")
        verbose_name_plural = _("推荐关系")
        ordering = ["-bound_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(user=F("referrer")), name="binding_not_self"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="one_open_binding_per_user"
            ),
        ]
        indexes = [models.Index(fields=["referrer", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.user_id}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.ended_at is None and (self.expires_at is None or self.expires_at > now)

    def is_protected(self, now=None) -> bool:
        return self.is_active(now) and (now or timezone.now()) < self.protected_until


class BindingRefusal(models.Model):
    """A binding that was refused (self, cycle, same WeChat/phone…): evidence for operators."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(_("原因"), max_length=32, db_index=True)
    context = models.CharField(_("场景"), max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("被拒绝的绑定")
        verbose_name_plural = _("被拒绝的绑定")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} ← {self.code}: {self.reason}"


class LinkChannel(models.TextChoices):
    LINK = "link", _("分享链接")
    POSTER = "poster", _("海报")
    MOMENTS = "moments", _("朋友圈")
    CHAT = "chat", _("微信聊天")
    MINIPROGRAM = "miniprogram", _("小程序")
    GROUP_BUY = "group_buy", _("拼团")
    OTHER = "other", _("其他")


class ReferralLinkStat(models.Model):
    """Visits and sign-ups that came through one promoter's link, per channel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="link_stats")
    channel = models.CharField(_("渠道"), max_length=20, choices=LinkChannel.choices)
    visits = models.PositiveIntegerField(_("访问"), default=0)
    signups = models.PositiveIntegerField(_("注册"), default=0)
    last_visit_at = models.DateTimeField(_("最近访问"), null=True, blank=True)

    class Meta:
        verbose_name = _("推广链接统计")
        verbose_name_plural = _("推广链接统计")
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="uniq_link_stat_channel")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.channel} {self.visits}/{self.signups}"


# ---- commission rules and commissions ------------------------------------------------------------------


class RewardKind(models.TextChoices):
    CASH = "cash", _("现金佣金")
    POINTS = "points", _("积分奖励")


class CommissionRule(models.Model):
    """Rate for one item type (optionally one item), commission level and promoter level.

    The most specific active rule wins: item + promoter level, type + promoter level, the promoter
    level's own rate, item, type. Level 2 rules only apply while the operator enables level 2.
    """

    item_type = models.CharField(_("商品类型"), max_length=32, db_index=True)
    item_id = models.CharField(
        _("商品ID"), max_length=64, blank=True, default="", help_text=_("留空 = 该类型全部商品")
    )
    promoter_level = models.ForeignKey(
        PromoterLevel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("推广员级别"),
        help_text=_("留空 = 所有级别"),
    )
    level = models.PositiveSmallIntegerField(
        _("分佣层级"), default=1, choices=[(1, _("一级（直接推荐人）")), (2, _("二级"))]
    )
    rate_bp = models.PositiveIntegerField(
        _("比例（基点）"), help_text=_("1000 = 10%，按实付金额向下取整到分")
    )
    reward_kind = models.CharField(
        _("奖励方式"), max_length=8, choices=RewardKind.choices, default=RewardKind.CASH
    )
    points_per_yuan = models.PositiveIntegerField(
        _("每 1 元奖励折合积分"), default=10, help_text=_("奖励方式为积分时使用")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("佣金规则")
        verbose_name_plural = _("佣金规则")
        ordering = ["item_type", "item_id", "level"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=MAX_COMMISSION_LEVEL), name="rule_level_1_or_2"
            ),
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="rule_rate_at_most_100pct"),
            models.UniqueConstraint(
                fields=["item_type", "item_id", "level"],
                condition=Q(promoter_level__isnull=True),
                name="uniq_rule_any_level",
            ),
            models.UniqueConstraint(
                fields=["item_type", "item_id", "level", "promoter_level"],
                condition=Q(promoter_level__isnull=False),
                name="uniq_rule_per_promoter_level",
            ),
        ]

    def __str__(self) -> str:
        target = f"{self.item_type}:{self.item_id}" if self.item_id else self.item_type
        return f"{target} L{self.level} {self.rate_bp}bp"


class Commission(models.Model):
    """What one beneficiary earns on one paid order at one level. Unique per (order, level).

    Cash rewards live in the ledger (`earning_id`, held until the refund window passes); point
    rewards are awarded once the same window has passed. Reversals follow refunds proportionally:
    the beneficiary keeps floor(rate × net paid amount), the rounding remainder stays with the platform.
    """

    class Status(models.TextChoices):
        ACCRUED = "accrued", _("已计提")
        PARTIALLY_REVERSED = "partially_reversed", _("部分冲回")
        REVERSED = "reversed", _("已冲回")
        SKIPPED = "skipped", _("未发放")

    class SkipReason(models.TextChoices):
        NONE = "", _("—")
        AGREEMENT = "agreement", _("未同意推广员协议")
        BLOCKED = "blocked", _("推广资格已停止")
        MEMBERSHIP = "membership", _("非会员（运营要求会员才可获得佣金）")
        SAME_PERSON = "same_person", _("疑似同一人（微信或手机号相同）")

    order = models.ForeignKey("payments.Order", on_delete=models.PROTECT, related_name="commissions")
    level = models.PositiveSmallIntegerField(_("层级"))
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("推广员"),
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("购买人")
    )
    item_type = models.CharField(_("商品类型"), max_length=32)
    base_fen = models.PositiveBigIntegerField(_("计佣金额（分）"))
    rate_bp = models.PositiveIntegerField(_("比例（基点）"))
    amount_fen = models.PositiveBigIntegerField(_("佣金（分）"))
    reversed_fen = models.PositiveBigIntegerField(_("已冲回（分）"), default=0)
    reward_kind = models.CharField(_("奖励方式"), max_length=8, choices=RewardKind.choices)
    points_per_yuan = models.PositiveIntegerField(default=0)
    points_awarded = models.PositiveBigIntegerField(_("已发积分"), default=0)
    points_clawed_back = models.PositiveBigIntegerField(_("已扣回积分"), default=0)
    points_awarded_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, db_index=True)
    skip_reason = models.CharField(
        _("未发放原因"), max_length=16, choices=SkipReason.choices, blank=True, default=""
    )
    rule = models.ForeignKey(
        CommissionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoter_level = models.ForeignKey(
        PromoterLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    earning = models.ForeignKey(
        "payments.Earning", null=True, blank=True, on_delete=models.PROTECT, related_name="commissions"
    )
    hold_until = models.DateTimeField(_("结算时间"))
    idempotency_key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("佣金")
        verbose_name_plural = _("佣金")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=MAX_COMMISSION_LEVEL), name="commission_level_1_or_2"
            ),
            models.UniqueConstraint(fields=["order", "level"], name="uniq_commission_order_level"),
            models.CheckConstraint(condition=~Q(beneficiary=F("buyer")), name="commission_not_self"),
            models.CheckConstraint(
                condition=Q(reversed_fen__lte=F("amount_fen")), name="commission_reversed_le_amount"
            ),
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="commission_rate_at_most_100pct"),
        ]
        indexes = [models.Index(fields=["beneficiary", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.order_id} L{self.level} {self.amount_fen}"

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.reversed_fen


# ---- group buying (拼团) -------------------------------------------------------------------------------


class GroupBuyOffer(models.Model):
    """An operator's group-buy offer: an item at a group price when `group_size` people pay in time."""

    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(_("商品ID"), max_length=64)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    group_size = models.PositiveSmallIntegerField(_("成团人数"))
    group_price_fen = models.PositiveBigIntegerField(_("拼团价（分）"))
    time_limit_hours = models.PositiveIntegerField(_("成团时限（小时）"), default=24)
    starts_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True, help_text=_("空 = 长期"))
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("拼团活动")
        verbose_name_plural = _("拼团活动")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_size__gte=2) & Q(group_size__lte=100), name="group_size_2_to_100"
            ),
            models.CheckConstraint(condition=Q(group_price_fen__gt=0), name="group_price_positive"),
            models.CheckConstraint(condition=Q(time_limit_hours__gte=1), name="group_time_limit_positive"),
            models.CheckConstraint(condition=~Q(item_type="group_buy"), name="group_offer_not_nested"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open_for_new_groups(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @property
    def time_limit(self) -> timedelta:
        return timedelta(hours=self.time_limit_hours)


class GroupBuy(models.Model):
    """One group opened by an initiator. Forming → succeeded (N paid) or expired (everyone refunded)."""

    class Status(models.TextChoices):
        AWAITING_INITIATOR = "awaiting", _("待团长付款")
        FORMING = "forming", _("拼团中")
        SUCCEEDED = "succeeded", _("拼团成功")
        EXPIRED = "expired", _("未成团（已退款）")
        CANCELLED = "cancelled", _("已取消（团长未付款）")

    offer = models.ForeignKey(GroupBuyOffer, on_delete=models.PROTECT, related_name="groups")
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="group_buys_started"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.AWAITING_INITIATOR, db_index=True
    )
    size = models.PositiveSmallIntegerField(_("成团人数"))
    price_fen = models.PositiveBigIntegerField(_("拼团价（分）"))
    paid_count = models.PositiveSmallIntegerField(_("已付款人数"), default=0)
    opened_at = models.DateTimeField(_("开团时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("截止时间"), null=True, blank=True, db_index=True)
    succeeded_at = models.DateTimeField(_("成团时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("拼团")
        verbose_name_plural = _("拼团")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(paid_count__lte=F("size")), name="group_paid_le_size"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(paid_count=F("size")), name="group_success_means_full"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.offer}"

    @property
    def places_left(self) -> int:
        return max(0, self.size - self.paid_count)


class GroupBuyMember(models.Model):
    """A place in a group. `item_id` of a `group_buy` order is this row's id (a reserved seat)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("已占位，待付款")
        PAID = "paid", _("已付款")
        CANCELLED = "cancelled", _("未付款，已释放")
        REFUNDING = "refunding", _("退款中")
        REFUNDED = "refunded", _("已退款")

    ACTIVE = (Status.RESERVED, Status.PAID)

    group = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="group_buy_seats"
    )
    is_initiator = models.BooleanField(_("团长"), default=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.RESERVED, db_index=True
    )
    reserved_until = models.DateTimeField(_("占位有效期"))
    order = models.OneToOneField(
        "payments.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="group_buy_seat"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # The zero-amount order that granted the underlying item once the group succeeded (exactly once).
    granted_order = models.OneToOneField(
        "payments.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grant_error = models.CharField(max_length=255, blank=True, default="")
    needs_refund = models.BooleanField(
        _("待自动退款"), default=False, help_text=_("未成团、或付款时名额已满/已过期")
    )
    joined_at = models.DateTimeField(_("参团时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团成员")
        verbose_name_plural = _("拼团成员")
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status__in=["reserved", "paid"]),
                name="one_active_seat_per_user_per_group",
            ),
            models.UniqueConstraint(
                fields=["group"], condition=Q(is_initiator=True), name="one_initiator_per_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.user_id} {self.status}"


# ---- staff progressive profit share (分润递进) ---------------------------------------------------------


class StaffShareBracket(models.Model):
    """A progressive bracket: volume above `lower_fen` (up to the next bracket) earns `rate_bp`."""

    lower_fen = models.PositiveBigIntegerField(_("起点（分）"), unique=True)
    rate_bp = models.PositiveIntegerField(_("比例（基点）"))

    class Meta:
        verbose_name = _("分润阶梯")
        verbose_name_plural = _("分润阶梯")
        ordering = ["lower_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="bracket_rate_at_most_100pct")
        ]

    def __str__(self) -> str:
        return f"≥{self.lower_fen} {self.rate_bp}bp"


class StaffShareMonth(models.Model):
    """A closed month (Asia/Shanghai calendar month). Its statements never change after closing."""

    month = models.DateField(_("月份"), unique=True, help_text=_("当月 1 日"))
    closed_at = models.DateTimeField(_("结算时间"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    brackets = models.JSONField(_("使用的阶梯"), default=list)
    volume_fen = models.BigIntegerField(_("总业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("总分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("总扣回（分）"), default=0)
    override_fen = models.BigIntegerField(_("团队管理分润（分）"), default=0)

    class Meta:
        verbose_name = _("分润月结")
        verbose_name_plural = _("分润月结")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class StaffShareStatement(models.Model):
    """One rep's month: net volume, progressive share, and deductions for earlier months' refunds."""

    month = models.ForeignKey(StaffShareMonth, on_delete=models.PROTECT, related_name="statements")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="share_statements"
    )
    gross_fen = models.BigIntegerField(_("当月成交（分）"), default=0)
    refunded_fen = models.BigIntegerField(_("当月退款（分）"), default=0)
    net_fen = models.BigIntegerField(_("净业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("往月退款扣回（分）"), default=0)
    orders_count = models.PositiveIntegerField(_("订单数"), default=0)
    earning = models.ForeignKey(
        "payments.Earning", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The supervisor's override that counted this statement's volume (the rep's team at the close).
    override = models.ForeignKey(
        "StaffShareOverride",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("团队管理分润"),
    )

    class Meta:
        verbose_name = _("分润对账单")
        verbose_name_plural = _("分润对账单")
        ordering = ["-month__month", "rep_id"]
        constraints = [models.UniqueConstraint(fields=["month", "rep"], name="uniq_statement_month_rep")]

    def __str__(self) -> str:
        return f"{self.month} {self.rep_id}"


class StaffShareLine(models.Model):
    """An order counted in a statement (so later refunds of exactly these orders can be traced)."""

    statement = models.ForeignKey(StaffShareStatement, on_delete=models.CASCADE, related_name="lines")
    order = models.OneToOneField("payments.Order", on_delete=models.PROTECT, related_name="staff_share_line")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField()
    refunded_at_close_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("分润订单")
        verbose_name_plural = _("分润订单")

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.order_id}"


class StaffShareAdjustment(models.Model):
    """A deduction posted in `statement`'s month for refunds of orders counted in `source`."""

    statement = models.ForeignKey(StaffShareStatement, on_delete=models.CASCADE, related_name="adjustments")
    source = models.ForeignKey(StaffShareStatement, on_delete=models.PROTECT, related_name="adjusted_by")
    refunded_fen = models.BigIntegerField(_("新增退款（分）"))
    amount_fen = models.BigIntegerField(_("扣回分润（分）"))

    class Meta:
        verbose_name = _("分润扣回")
        verbose_name_plural = _("分润扣回")
        constraints = [
            models.UniqueConstraint(fields=["statement", "source"], name="uniq_adjustment_source"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="adjustment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}←{self.source_id} {self.amount_fen}"


# ---- sales credit and teams (销售归属、团队) --------------------------------------------------------------


class SalesLead(models.Model):
    """A prospective member (a user, or a phone number not yet signed up) an operator gave to a rep.

    While open, the lead's orders carry that rep as their rep of record (the rep who closes the sale),
    and the first membership makes them the member's sales rep. At most one open lead per person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_leads",
        verbose_name=_("客户"),
    )
    phone = EncryptedTextField(_("手机号"), blank=True, default="", help_text=_("加密存储"))
    phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_leads",
        verbose_name=_("销售顾问"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("分配人"),
    )
    assigned_at = models.DateTimeField(_("分配时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("结束人"),
    )
    end_reason = models.CharField(_("结束原因"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("销售线索")
        verbose_name_plural = _("销售线索")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(phone_hash=""), name="lead_user_or_phone"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_at__isnull=True, user__isnull=False),
                name="uniq_open_lead_user",
            ),
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=Q(ended_at__isnull=True) & ~Q(phone_hash=""),
                name="uniq_open_lead_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or mask_phone(self.phone)} → {self.rep_id}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class SalesTeam(models.Model):
    """A supervisor's team (团队): the supervisor earns `override_bp` of the team's monthly net volume."""

    name = models.CharField(_("团队名称"), max_length=64)
    supervisor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="supervised_team",
        verbose_name=_("主管"),
    )
    override_bp = models.PositiveIntegerField(
        _("管理分润（基点）"), default=0, help_text=_("按团队当月净业绩计提，100 基点 = 1%")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("销售团队")
        verbose_name_plural = _("销售团队")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(override_bp__lte=10000), name="team_override_at_most_100pct")
        ]

    def __str__(self) -> str:
        return self.name


class SalesTeamMember(models.Model):
    """A rep in a team; a rep belongs to at most one team (so a sale is overridden once)."""

    team = models.ForeignKey(SalesTeam, on_delete=models.CASCADE, related_name="members")
    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sales_team_membership",
        verbose_name=_("销售顾问"),
    )

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")

    def __str__(self) -> str:
        return f"{self.team_id}:{self.rep_id}"


class StaffShareOverride(models.Model):
    """A supervisor's month: the team's net volume at the close × the override rate, and deductions
    for refunds (completed this month) of orders counted in earlier months' overrides."""

    month = models.ForeignKey(StaffShareMonth, on_delete=models.PROTECT, related_name="overrides")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="share_overrides",
        verbose_name=_("主管"),
    )
    team = models.ForeignKey(SalesTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team_name = models.CharField(_("团队"), max_length=64, blank=True, default="")
    rate_bp = models.PositiveIntegerField(_("管理分润（基点）"), default=0)
    volume_fen = models.BigIntegerField(_("团队净业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("管理分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("往月退款扣回（分）"), default=0)
    earning = models.ForeignKey(
        "payments.Earning", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("团队管理分润")
        verbose_name_plural = _("团队管理分润")
        ordering = ["-month__month", "supervisor_id"]
        constraints = [
            models.UniqueConstraint(fields=["month", "supervisor"], name="uniq_override_month_supervisor")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.team_name or self.supervisor_id}"


class StaffShareOverrideAdjustment(models.Model):
    """A deduction posted in `override`'s month for refunds of orders counted in `source`."""

    override = models.ForeignKey(StaffShareOverride, on_delete=models.CASCADE, related_name="adjustments")
    source = models.ForeignKey(StaffShareOverride, on_delete=models.PROTECT, related_name="adjusted_by")
    refunded_fen = models.BigIntegerField(_("新增退款（分）"))
    amount_fen = models.BigIntegerField(_("扣回分润（分）"))

    class Meta:
        verbose_name = _("管理分润扣回")
        verbose_name_plural = _("管理分润扣回")
        constraints = [
            models.UniqueConstraint(fields=["override", "source"], name="uniq_override_adjustment_source"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="override_adjustment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.override_id}←{self.source_id} {self.amount_fen}"
