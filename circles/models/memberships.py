"""Circle memberships: a member's row (role, status, expiry), its history of events (the churn
record) and the grants paid orders added to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from circles.models.circles import Circle
from core.models import TimeStampedModel

__all__ = [
    "CircleMembership",
    "CircleMembershipEvent",
    "CircleGrant",
]


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

    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("圈子")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_memberships",
        verbose_name=_("成员"),
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

    membership = models.ForeignKey(
        CircleMembership, on_delete=models.CASCADE, related_name="events", verbose_name=_("圈子成员资格")
    )
    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="membership_events", verbose_name=_("圈子")
    )
    kind = models.CharField(_("事件类型"), max_length=16, choices=Kind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    order_no = models.CharField(_("订单号"), max_length=32, blank=True, default="")
    details = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("成员变动")
        verbose_name_plural = _("成员变动")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.membership_id}"


class CircleGrant(models.Model):
    """The days one paid order added to a membership, so a refund can take back exactly those."""

    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    membership = models.ForeignKey(
        CircleMembership, on_delete=models.CASCADE, related_name="grants", verbose_name=_("圈子成员资格")
    )
    previous_expires_at = models.DateTimeField(_("原到期时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"))
    kind = models.CharField(
        _("类型"), max_length=16, choices=CircleMembershipEvent.Kind.choices
    )  # joined / renewed
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"), default=0)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("购买记录")
        verbose_name_plural = _("购买记录")

    def __str__(self) -> str:
        return self.order_no
