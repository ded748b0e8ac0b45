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
            ),
            # A tier of 0 days would take the money and grant nothing (the grant refuses 0 days after
            # payment): the tier editor must refuse it before anything is sold.
            models.CheckConstraint(
                condition=models.Q(duration_days__gt=0),
                name="tier_duration_positive",
                violation_error_message=_("天数须大于 0"),
            ),
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


# ---- membership history, reminders, member numbers ------------------------------------------------------


class MembershipGrant(models.Model):
    """What one order (or operator grant) did to a membership, so a refund can undo exactly that.

    The window before and after is recorded; revoking shifts the end back by what this grant added
    and, for an upgrade, restores the previous tier.
    """

    class Kind(models.TextChoices):
        START = "start", _("开通")
        RENEW = "renew", _("续费")
        UPGRADE = "upgrade", _("升级")
        CONVERT = "convert", _("折算为当前等级天数")

    class Source(models.TextChoices):
        PURCHASE = "purchase", _("购买")
        POINTS = "points", _("积分兑换")
        GRANT = "grant", _("运营赠送")
        FREE = "free", _("免费领取")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="membership_grants")
    order = models.OneToOneField(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="membership_grant",
        verbose_name=_("订单"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.PURCHASE)
    tier = models.ForeignKey(
        MembershipTier, on_delete=models.PROTECT, related_name="+", verbose_name=_("等级")
    )
    tier_before = models.ForeignKey(
        MembershipTier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_before = models.DateTimeField(null=True, blank=True)
    ends_before = models.DateTimeField(null=True, blank=True)
    starts_after = models.DateTimeField(_("开始"))
    ends_after = models.DateTimeField(_("到期"))
    days = models.PositiveIntegerField(_("天数"))
    # Cash value this grant adds to the membership (what was paid plus upgrade credit); the basis of
    # a later upgrade's pro-rata credit. Operator gifts and points have no cash value.
    value_fen = models.PositiveBigIntegerField(_("价值（分）"), default=0)
    credit_fen = models.PositiveBigIntegerField(_("升级抵扣（分）"), default=0)
    operator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作人")
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True, default="")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True, default="")
    # The upgrade whose credit this grant's unused value became (members.funding): while that upgrade
    # stands, refunding this grant's order would pay the same value out twice, so it is refused.
    credit_consumed_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credit_from",
        verbose_name=_("已折抵至升级"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("会员变动记录")
        verbose_name_plural = _("会员变动记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_after__gte=models.F("starts_after")), name="grant_window_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.tier_id} +{self.days}d"

    @property
    def ends_shift(self):
        """How far this grant moved the membership's end (a START counts its whole window)."""
        if self.kind == self.Kind.START or self.ends_before is None:
            return self.ends_after - self.starts_after
        return self.ends_after - self.ends_before


class MembershipReminder(models.Model):
    """One renewal reminder (30/7/1 days) or expiry notice per membership end date: the unique row is
    what makes the daily sweep send each exactly once, and again after a renewal moves the end."""

    class Kind(models.TextChoices):
        DAYS_30 = "30", _("到期前30天")
        DAYS_7 = "7", _("到期前7天")
        DAYS_1 = "1", _("到期前1天")
        EXPIRED = "expired", _("已到期")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    ends_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("续费提醒")
        verbose_name_plural = _("续费提醒")
        constraints = [
            models.UniqueConstraint(fields=["membership", "kind", "ends_at"], name="uniq_reminder_per_end")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.kind} {self.ends_at:%Y-%m-%d}"


class MemberNumberSequence(models.Model):
    """Gap-free member numbers per prefix: incremented under a row lock inside the paid transaction,
    so a rolled-back payment gives its number back and a committed one is never reused."""

    prefix = models.CharField(max_length=8, unique=True)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("会员编号序列")
        verbose_name_plural = _("会员编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}-{self.last_value:06d}"


# ---- four-layer onboarding (四层沉淀) --------------------------------------------------------------------

QR_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


def validate_qr_image(upload) -> None:
    """A QR code picture: a real JPEG/PNG/WebP (checked by content, not name) within the size limit."""
    from django.conf import settings
    from django.core.exceptions import ValidationError
    from PIL import Image, UnidentifiedImageError

    limit = getattr(settings, "UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    if upload.size > limit:
        raise ValidationError(_("图片不能超过 %(mb)s MB") % {"mb": limit // (1024 * 1024)}, code="too_large")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("请上传 JPG、PNG 或 WebP 格式的二维码图片"), code="invalid_image") from exc
    finally:
        upload.seek(position)
    if fmt not in QR_IMAGE_FORMATS:
        raise ValidationError(_("请上传 JPG、PNG 或 WebP 格式的二维码图片"), code="invalid_image")


class ServiceGroup(TimeStampedModel):
    """A WeChat group: a member's 对接群 (service group, staff with roles) or a 大群 (big group)."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("对接群")
        BIG = "big", _("大群")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    name = models.CharField(_("群名称"), max_length=64)
    qr_image = models.ImageField(
        _("群二维码"),
        upload_to="service_groups/%Y/%m/",
        blank=True,
        validators=[validate_qr_image],
        help_text=_("JPG/PNG/WebP；微信群二维码 7 天有效，请及时更新"),
    )
    qr_expires_at = models.DateTimeField(_("二维码有效期至"), null=True, blank=True)
    tier = models.ForeignKey(
        MembershipTier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="big_groups",
        verbose_name=_("适用等级"),
        help_text=_("大群：该等级及以上会员加入；留空表示所有会员"),
    )
    notes = models.TextField(_("备注"), blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)
    staff = models.ManyToManyField(
        User, through="ServiceGroupStaff", related_name="staffed_groups", blank=True
    )

    class Meta:
        verbose_name = _("服务群")
        verbose_name_plural = _("服务群")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def qr_valid(self) -> bool:
        from django.utils import timezone

        return bool(self.qr_image) and (self.qr_expires_at is None or self.qr_expires_at > timezone.now())


class ServiceGroupStaff(models.Model):
    class Role(models.TextChoices):
        SALES = "sales", _("销售顾问")
        SERVICE = "service", _("客服")
        TEACHER = "teacher", _("讲师")
        ASSISTANT = "assistant", _("助教")
        OWNER = "owner", _("群主")

    group = models.ForeignKey(ServiceGroup, on_delete=models.CASCADE, related_name="staff_roles")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="service_group_roles")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("群内工作人员")
        verbose_name_plural = _("群内工作人员")
        constraints = [
            models.UniqueConstraint(fields=["group", "user", "role"], name="uniq_group_staff_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class RepCursor(models.Model):
    """Round-robin position per staff role: the last rep a new member was assigned to."""

    role = models.CharField(max_length=32, unique=True)
    last_user_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("轮流分配位置")
        verbose_name_plural = _("轮流分配位置")

    def __str__(self) -> str:
        return f"{self.role} → {self.last_user_id}"


class MemberProfile(TimeStampedModel):
    """What a member tells the community about themselves (自我介绍) and the house nickname parts."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    real_name = models.CharField(_("姓名/称呼"), max_length=20, blank=True, default="")
    city = models.CharField(_("城市"), max_length=20, blank=True, default="")
    industry = models.CharField(_("行业"), max_length=20, blank=True, default="")
    company = models.CharField(_("公司/职位"), max_length=64, blank=True, default="")
    self_introduction = models.TextField(_("自我介绍"), blank=True, default="")

    class Meta:
        verbose_name = _("会员资料")
        verbose_name_plural = _("会员资料")

    def __str__(self) -> str:
        return f"{self.user} {self.real_name}"


class Onboarding(TimeStampedModel):
    """A paying member's four layers: reps assigned → service group joined → self-introduction →
    big group joined. Each step keeps its time; `stage` is the first step not done, `stage_since`
    when the member reached it (what the stuck list measures)."""

    class Stage(models.TextChoices):
        REPS = "reps", _("待分配顾问")
        SERVICE_GROUP = "service_group", _("待加入对接群")
        INTRO = "intro", _("待提交自我介绍")
        BIG_GROUP = "big_group", _("待加入大群")
        DONE = "done", _("已完成")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="onboarding")
    tier = models.ForeignKey(MembershipTier, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("开始时间"))
    sales_rep = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_onboardings",
        verbose_name=_("销售顾问"),
    )
    service_rep = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_onboardings",
        verbose_name=_("客服"),
    )
    reps_assigned_at = models.DateTimeField(_("顾问分配时间"), null=True, blank=True)
    service_group = models.ForeignKey(
        ServiceGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_onboardings",
        verbose_name=_("对接群"),
    )
    service_group_joined_at = models.DateTimeField(_("加入对接群时间"), null=True, blank=True)
    intro_submitted_at = models.DateTimeField(_("自我介绍时间"), null=True, blank=True)
    big_group = models.ForeignKey(
        ServiceGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="big_onboardings",
        verbose_name=_("大群"),
    )
    big_group_joined_at = models.DateTimeField(_("加入大群时间"), null=True, blank=True)
    stage = models.CharField(_("当前步骤"), max_length=16, choices=Stage.choices, default=Stage.REPS)
    stage_since = models.DateTimeField(_("进入当前步骤时间"))
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("入会引导")
        verbose_name_plural = _("入会引导")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["stage", "stage_since"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_stage_display()}"


# ---- points mall (积分商城) ---------------------------------------------------------------------------------


class Reward(TimeStampedModel):
    """Something members redeem with points: any registered item (course, circle, event seat,
    membership days…) named by `item_type` + `item_id`, fulfilled by that item type itself."""

    title = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(
        _("商品ID"), max_length=64, help_text=_("课程/圈子等为数字ID；会员天数为 等级代码:天数，如 VIP:30")
    )
    points_price = models.PositiveIntegerField(_("所需积分"))
    stock = models.PositiveIntegerField(_("库存"), null=True, blank=True, help_text=_("留空表示不限"))
    per_member_limit = models.PositiveSmallIntegerField(_("每人限兑"), default=1, help_text=_("0 表示不限"))
    redeemed_count = models.PositiveIntegerField(_("已兑换"), default=0)
    is_active = models.BooleanField(_("上架"), default=True)
    sort_order = models.IntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("积分商城奖品")
        verbose_name_plural = _("积分商城奖品")
        ordering = ["sort_order", "points_price", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points_price__gt=0), name="reward_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.points_price})"

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class Redemption(models.Model):
    """One redemption: the points entry that paid for it and the free order that granted it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points = models.PositiveIntegerField(_("积分"))
    points_entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="redemption")
    order = models.OneToOneField("payments.Order", on_delete=models.PROTECT, related_name="redemption")
    idempotency_key = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("积分兑换记录")
        verbose_name_plural = _("积分兑换记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} ← {self.reward}"
