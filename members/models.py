"""Users, membership tiers and memberships.

The custom user is in the first migration on purpose: swapping AUTH_USER_MODEL later is painful.
Phone numbers are encrypted at rest; `phone_hash` (a keyed HMAC) is the lookup key.
"""

import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, keyed_hash, mask_phone, normalize_phone
from core.models import TimeStampedModel

# No 0/O/1/I/L: people read referral codes off posters and type them in.
REFERRAL_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def generate_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _ in range(8))


def _phone_hash(raw: str) -> str:
    return keyed_hash(normalize_phone(raw), purpose="phone")


class ZhiquanUserManager(UserManager):
    def get_by_phone(self, raw_phone: str):
        return self.get(phone_hash=_phone_hash(raw_phone))

    def filter_by_phone(self, raw_phone: str):
        return self.filter(phone_hash=_phone_hash(raw_phone))

    def generate_username(self, prefix: str = "u") -> str:
        return f"{prefix}_{secrets.token_hex(6)}"


class User(AbstractUser):
    nickname = models.CharField(_("昵称"), max_length=64, blank=True, default="")
    avatar_url = models.URLField(_("头像"), max_length=500, blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="", help_text=_("加密存储"))
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)
    member_no = models.CharField(_("会员编号"), max_length=32, unique=True, null=True, blank=True)
    # Every user can share from day one (becoming a promoter never requires a purchase). The
    # referrals app owns what a code does (binding, attribution); members only owns the identifier.
    referral_code = models.CharField(
        _("推荐码"), max_length=16, unique=True, default=generate_referral_code, editable=False
    )

    objects = ZhiquanUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.nickname or self.member_no or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def set_phone(self, raw_phone: str, *, verified: bool = False) -> None:
        """Store a phone number encrypted, with its lookup hash. Caller saves."""
        if raw_phone:
            self.phone = normalize_phone(raw_phone)
            self.phone_hash = _phone_hash(raw_phone)
        else:
            self.phone, self.phone_hash = "", None
        self.phone_verified = verified and bool(raw_phone)


class MembershipTier(TimeStampedModel):
    """A membership level (VIP, KA…). A higher rank includes everything lower ranks include."""

    code = models.CharField(_("代码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    duration_days = models.PositiveIntegerField(_("有效天数"), default=365)
    rank = models.PositiveSmallIntegerField(_("等级"), unique=True)
    benefits = models.TextField(_("权益（每行一条）"), blank=True, default="")
    single_purchase_discount_bp = models.PositiveIntegerField(
        _("单品购买折扣（基点）"), default=0, help_text=_("1000 = 减 10%")
    )
    member_no_prefix = models.CharField(_("会员编号前缀"), max_length=8)
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("会员等级")
        verbose_name_plural = _("会员等级")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(single_purchase_discount_bp__lte=10000),
                name="tier_discount_at_most_100pct",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def benefit_list(self) -> list[str]:
        return [line.strip() for line in self.benefits.splitlines() if line.strip()]


class Membership(TimeStampedModel):
    """A member's current membership: one row per user, its tier and window change with orders.

    History (which order granted which days) lives in MembershipGrant so a refund can take back
    exactly what one order gave.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    tier = models.ForeignKey(MembershipTier, on_delete=models.PROTECT, related_name="memberships")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("到期时间"), db_index=True)

    class Meta:
        verbose_name = _("会员资格")
        verbose_name_plural = _("会员资格")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="membership_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.tier.code} → {self.ends_at:%Y-%m-%d}"


# ---- notifications and subscribe messages --------------------------------------------------------------


class SubscribeTemplate(TimeStampedModel):
    """A WeChat subscribe-message template the operator configured in the mini-program console.

    Code refers to templates by `key` (e.g. "renewal_reminder"); the operator pastes WeChat's
    template id. A key without an active row with a template id means "in-site only".
    """

    key = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    template_id = models.CharField(_("微信模板ID"), max_length=128, blank=True, default="")
    page = models.CharField(
        _("点击跳转的小程序页面"), max_length=200, blank=True, default="", help_text=_("如 pages/index/index")
    )
    # The template's keyword fields in order (e.g. "thing1,time2"); plain strings sent by callers
    # are mapped onto them in this order.
    fields = models.CharField(_("模板字段"), max_length=200, blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("订阅消息模板")
        verbose_name_plural = _("订阅消息模板")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def field_names(self) -> list[str]:
        return [name.strip() for name in self.fields.split(",") if name.strip()]


class SubscribeOptIn(models.Model):
    """How many more subscribe messages of one template a member accepted (one per accepted prompt)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="subscribe_optins")
    template_key = models.SlugField(max_length=64)
    remaining = models.PositiveIntegerField(_("剩余次数"), default=0)
    accepted_total = models.PositiveIntegerField(_("累计同意"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("订阅授权次数")
        verbose_name_plural = _("订阅授权次数")
        constraints = [
            models.UniqueConstraint(fields=["user", "template_key"], name="uniq_optin_user_template"),
            models.CheckConstraint(condition=models.Q(remaining__gte=0), name="optin_remaining_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.template_key}={self.remaining}"


class Notification(models.Model):
    """An in-site notification; optionally mirrored as one WeChat subscribe message."""

    class Push(models.TextChoices):
        NONE = "", _("仅站内")
        QUEUED = "queued", _("待推送")
        SENDING = "sending", _("推送中")
        SENT = "sent", _("已推送")
        FAILED = "failed", _("推送失败")
        SKIPPED = "skipped", _("无订阅次数，仅站内")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=40, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, default="")
    url = models.CharField(_("链接"), max_length=500, blank=True, default="")
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    subscribe_template = models.SlugField(max_length=64, blank=True, default="")
    subscribe_data = models.JSONField(default=dict, blank=True)
    push_status = models.CharField(
        _("订阅消息"), max_length=16, choices=Push.choices, blank=True, default=Push.NONE, db_index=True
    )
    push_error = models.CharField(max_length=255, blank=True, default="")
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# ---- points (积分) -------------------------------------------------------------------------------------


class PointsAccount(models.Model):
    """A member's points balance. The CHECK constraint makes overdrawing impossible in the database."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="points_account")
    balance = models.BigIntegerField(_("积分余额"), default=0)
    earned_total = models.BigIntegerField(_("累计获得"), default=0)
    spent_total = models.BigIntegerField(_("累计使用"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="points_balance_not_negative"),
            models.CheckConstraint(
                condition=models.Q(balance=models.F("earned_total") - models.F("spent_total")),
                name="points_balance_is_earned_minus_spent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.balance}"


class PointsEntry(models.Model):
    """One line of points history. Append-only: corrections are new entries."""

    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="points_entries")
    amount = models.BigIntegerField(_("积分变动"))
    balance_after = models.BigIntegerField(_("变动后余额"))
    reason = models.CharField(_("原因"), max_length=200)
    idempotency_key = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("积分明细")
        verbose_name_plural = _("积分明细")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="points_entry_nonzero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="points_entry_balance_ok"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.amount:+d} {self.reason}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("points entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("points entries are append-only")
