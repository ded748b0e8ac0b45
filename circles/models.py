"""Paid circles (知识圈): circles, versioned rules, memberships and their history, posts, comments,
likes, tips and paid questions.

Counters on Post/Circle (likes, comments, tips, visible posts) are updated only with F() expressions
in services so concurrent writers keep them exact; the feed reads them without aggregation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class CircleSettings(models.Model):
    """Operator settings for every circle (a single row, pk=1): tip limits and platform fees."""

    tip_min_fen = models.PositiveBigIntegerField(_("打赏最低金额（分）"), default=100)
    tip_max_fen = models.PositiveBigIntegerField(_("打赏最高金额（分）"), default=50_000)
    tip_presets = models.CharField(_("打赏预设金额（元，逗号分隔）"), max_length=100, default="1,5,10,50,100")
    tip_platform_fee_bp = models.PositiveIntegerField(
        _("打赏平台服务费（基点）"), default=1000, help_text=_("1000 = 10%；向下取整，余数归平台")
    )
    qa_platform_fee_bp = models.PositiveIntegerField(_("付费问答平台服务费（基点）"), default=1000)
    expiring_soon_days = models.PositiveIntegerField(_("即将到期提醒天数"), default=30)

    class Meta:
        verbose_name = _("圈子设置")
        verbose_name_plural = _("圈子设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(tip_platform_fee_bp__lte=10000) & Q(qa_platform_fee_bp__lte=10000),
                name="circle_settings_fees_at_most_100pct",
            ),
            models.CheckConstraint(
                condition=Q(tip_min_fen__lte=models.F("tip_max_fen")), name="tip_min_le_max"
            ),
        ]

    def __str__(self) -> str:
        return str(_("圈子设置"))

    @classmethod
    def current(cls) -> CircleSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def preset_fen(self) -> list[int]:
        values = []
        for part in self.tip_presets.replace("，", ",").split(","):
            part = part.strip()
            if part.isdigit():
                values.append(int(part) * 100)
        return [v for v in values if self.tip_min_fen <= v <= self.tip_max_fen]


class Circle(TimeStampedModel):
    class PricingMode(models.TextChoices):
        DURATION = "duration", _("固定时长（自加入起）")
        WINDOW = "window", _("固定周期（日历区间）")

    class LateJoin(models.TextChoices):
        FULL = "full", _("晚加入按全价")
        PRORATED = "prorated", _("晚加入按剩余天数折算")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_circles",
        verbose_name=_("圈主"),
    )
    name = models.CharField(_("名称"), max_length=80)
    intro = models.TextField(_("简介"), blank=True, default="")
    cover = models.ImageField(_("封面"), upload_to="circles/covers/", blank=True)
    is_published = models.BooleanField(_("已上架"), default=True)
    pricing_mode = models.CharField(
        _("定价方式"), max_length=16, choices=PricingMode.choices, default=PricingMode.DURATION
    )
    price_fen = models.PositiveBigIntegerField(_("价格（分）"), default=0)
    duration_days = models.PositiveIntegerField(_("有效天数"), default=365)
    window_starts_at = models.DateTimeField(_("周期开始"), null=True, blank=True)
    window_ends_at = models.DateTimeField(_("周期结束"), null=True, blank=True)
    late_join = models.CharField(
        _("晚加入定价"), max_length=16, choices=LateJoin.choices, default=LateJoin.FULL
    )
    renew_early_bp = models.PositiveIntegerField(
        _("提前续费价（基点）"), default=8000, help_text=_("距到期超过续费窗口时续费：基础价 × 比例")
    )
    renew_window_bp = models.PositiveIntegerField(_("到期前续费价（基点）"), default=9000)
    renew_late_bp = models.PositiveIntegerField(
        _("过期后续费价（基点）"), default=10000, help_text=_("10000 = 原价；续费价不高于原价")
    )
    renew_window_days = models.PositiveIntegerField(_("续费窗口（到期前天数）"), default=30)
    trial_days = models.PositiveIntegerField(_("免费试用天数"), default=0)
    included_in_tiers = models.ManyToManyField(
        "members.MembershipTier", blank=True, related_name="circles", verbose_name=_("包含于会员等级")
    )
    qa_enabled = models.BooleanField(_("开启付费问答"), default=True)
    qa_price_fen = models.PositiveBigIntegerField(_("提问价格（分）"), default=990)
    qa_answer_days = models.PositiveIntegerField(_("嘉宾回答期限（天）"), default=3)
    rules_version = models.PositiveIntegerField(_("当前公约版本"), default=0)
    # Counters kept exact with F() updates (see services).
    visible_post_count = models.PositiveIntegerField(default=0, editable=False)
    featured_post_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("圈子")
        verbose_name_plural = _("圈子")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(renew_early_bp__lte=10000)
                & Q(renew_window_bp__lte=10000)
                & Q(renew_late_bp__lte=10000),
                name="circle_renew_bands_sane",
            ),
            models.CheckConstraint(
                condition=~Q(pricing_mode="window")
                | (
                    Q(window_starts_at__isnull=False)
                    & Q(window_ends_at__isnull=False)
                    & Q(window_ends_at__gt=models.F("window_starts_at"))
                ),
                name="circle_window_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CircleRules(models.Model):
    """One version of a circle's rules (社群公约). Versions only grow; members re-accept on change."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="rules")
    version = models.PositiveIntegerField(_("版本"))
    body = models.TextField(_("公约内容"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("社群公约")
        verbose_name_plural = _("社群公约")
        ordering = ["circle", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "version"], name="uniq_circle_rules_version")
        ]

    def __str__(self) -> str:
        return f"{self.circle} v{self.version}"


class RulesAcceptance(models.Model):
    """A user accepted one rules version of one circle (every acceptance is kept)."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="rules_acceptances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公约确认")
        verbose_name_plural = _("公约确认")
        constraints = [
            models.UniqueConstraint(fields=["circle", "user", "version"], name="uniq_rules_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.circle_id} v{self.version}"


class CircleMembership(TimeStampedModel):
    """A user's place in one circle. One row per (circle, user); history is in CircleMembershipEvent."""

    class Role(models.TextChoices):
        OWNER = "owner", _("圈主")
        ADMIN = "admin", _("管理员")
        GUEST = "guest", _("嘉宾")
        MEMBER = "member", _("成员")
        TRIAL = "trial", _("试用")
        EXPIRED = "expired", _("已过期")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在圈")
        LEFT = "left", _("已退出")
        REMOVED = "removed", _("已移出")

    STAFF_ROLES = (Role.OWNER, Role.ADMIN, Role.GUEST)

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="circle_memberships"
    )
    role = models.CharField(
        _("角色"), max_length=16, choices=Role.choices, default=Role.MEMBER, db_index=True
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    joined_at = models.DateTimeField(_("加入时间"))
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True, db_index=True)
    trial_used = models.BooleanField(_("已使用试用"), default=False)
    left_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    removed_with_refund = models.BooleanField(_("移出并退款"), default=False)
    rejoin_allowed = models.BooleanField(_("允许重新加入"), default=True)
    # Tier-included members get a row when they first accept the rules; their access comes from the tier.
    via_tier = models.BooleanField(_("会员等级包含"), default=False)
    accepted_rules_version = models.PositiveIntegerField(_("已确认公约版本"), default=0)

    class Meta:
        verbose_name = _("圈子成员")
        verbose_name_plural = _("圈子成员")
        constraints = [models.UniqueConstraint(fields=["circle", "user"], name="uniq_circle_member")]
        indexes = [models.Index(fields=["circle", "status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.circle} ({self.role})"


class CircleMembershipEvent(models.Model):
    """What happened to a membership: joins, renewals, trials, leaving, removal, expiry (churn source)."""

    class Kind(models.TextChoices):
        JOINED = "joined", _("加入")
        RENEWED = "renewed", _("续费")
        TRIAL = "trial", _("试用")
        LEFT = "left", _("退出")
        REMOVED = "removed", _("移出")
        EXPIRED = "expired", _("到期")
        REFUNDED = "refunded", _("退款收回")
        ROLE = "role", _("角色变更")
        REJOIN_ALLOWED = "rejoin_allowed", _("允许重新加入")

    membership = models.ForeignKey(CircleMembership, on_delete=models.CASCADE, related_name="events")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="membership_events")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_no = models.CharField(max_length=32, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("成员变动")
        verbose_name_plural = _("成员变动")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.membership_id}"


class CircleGrant(models.Model):
    """The days one paid order added to a membership, so a refund can take back exactly those."""

    order_no = models.CharField(max_length=32, unique=True)
    membership = models.ForeignKey(CircleMembership, on_delete=models.CASCADE, related_name="grants")
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    kind = models.CharField(max_length=16)  # joined / renewed
    amount_fen = models.PositiveBigIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("购买记录")
        verbose_name_plural = _("购买记录")

    def __str__(self) -> str:
        return self.order_no


class Post(TimeStampedModel):
    class Kind(models.TextChoices):
        TALK = "talk", _("讨论")
        QUESTION = "question", _("提问")
        HOMEWORK = "homework", _("作业")
        ANSWER = "answer", _("回答")

    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        REVIEW = "review", _("待审核")
        REJECTED = "rejected", _("未通过")
        DELETED = "deleted", _("已删除")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="circle_posts"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.TALK)
    title = models.CharField(_("标题"), max_length=120, blank=True, default="")
    body = models.TextField(_("内容"))
    # Storage names of validated images (kept on the row so the feed needs no extra query).
    images = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VISIBLE)
    is_pinned = models.BooleanField(_("置顶"), default=False)
    is_featured = models.BooleanField(_("精华"), default=False)
    featured_at = models.DateTimeField(null=True, blank=True)
    question = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("回答的问题"),
    )
    is_answered = models.BooleanField(_("已回答"), default=False)
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    tip_count = models.PositiveIntegerField(default=0)
    tip_total_fen = models.PositiveBigIntegerField(default=0)
    moderation_note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("帖子")
        verbose_name_plural = _("帖子")
        indexes = [
            models.Index(
                fields=["circle", "status", "-is_pinned", "-created_at", "-id"], name="circle_post_feed_idx"
            ),
            models.Index(
                fields=["circle", "-featured_at", "-id"],
                name="circle_post_featured_idx",
                condition=Q(is_featured=True, status="visible"),
            ),
            models.Index(
                fields=["circle", "-created_at", "-id"],
                name="circle_post_unanswered_idx",
                condition=Q(kind="question", is_answered=False, status="visible"),
            ),
            models.Index(fields=["author", "created_at"], name="circle_post_author_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.body[:30]

    @property
    def image_urls(self) -> list[str]:
        from django.core.files.storage import default_storage

        return [default_storage.url(name) for name in self.images or []]


class Comment(TimeStampedModel):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        REVIEW = "review", _("待审核")
        REJECTED = "rejected", _("未通过")
        DELETED = "deleted", _("已删除")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="circle_comments"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        verbose_name=_("回复"),
    )
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VISIBLE)
    tip_count = models.PositiveIntegerField(default=0)
    tip_total_fen = models.PositiveBigIntegerField(default=0)
    moderation_note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "status", "created_at"])]

    def __str__(self) -> str:
        return self.body[:30]


class PostLike(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("点赞")
        verbose_name_plural = _("点赞")
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="uniq_post_like")]
        indexes = [models.Index(fields=["user", "post"])]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.post_id}"


class TipIntent(models.Model):
    """A tip the tipper is about to pay: the amount and target, created before checkout.

    Its id is the order's item_id (item type `tip`), so the amount travels safely through the
    ordinary checkout without a client-chosen price.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("待支付")
        PAID = "paid", _("已支付")
        REFUNDED = "refunded", _("已退款")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="tips")
    tipper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tips_given")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tips_received"
    )
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips"
    )
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    platform_fee_fen = models.PositiveBigIntegerField(_("平台服务费（分）"), default=0)
    author_share_fen = models.PositiveBigIntegerField(_("作者所得（分）"), default=0)
    message = models.CharField(_("留言"), max_length=100, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    order_no = models.CharField(max_length=32, null=True, blank=True, unique=True)
    earning_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("打赏")
        verbose_name_plural = _("打赏")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="tip_amount_positive"),
            models.CheckConstraint(
                condition=Q(post__isnull=False) | Q(comment__isnull=False), name="tip_has_target"
            ),
        ]

    def __str__(self) -> str:
        return f"tip {self.amount_fen} → {self.recipient_id}"


class PaidQuestion(models.Model):
    """A member pays to ask one guest; the answer releases the fee, silence refunds it."""

    class Status(models.TextChoices):
        CREATED = "created", _("待支付")
        OPEN = "open", _("待回答")
        REVIEW = "answer_review", _("回答审核中")
        ANSWERED = "answered", _("已回答")
        EXPIRED = "expired", _("超时退款中")
        REFUNDED = "refunded", _("已退款")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="paid_questions")
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="paid_questions"
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions_to_answer"
    )
    body = models.TextField(_("问题"))
    # The content check's verdict at asking time: the question post goes to the moderation queue.
    needs_review = models.BooleanField(_("待审核"), default=False)
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    order_no = models.CharField(max_length=32, null=True, blank=True, unique=True)
    post = models.OneToOneField(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="paid_question"
    )
    answer_post = models.OneToOneField(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="paid_answer_of"
    )
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    earning_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("付费提问")
        verbose_name_plural = _("付费提问")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.body[:30]
