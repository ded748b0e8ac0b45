"""Offline events (线下课): `Event`, `EventRegistration` (seat hold, ticket, waitlist, check-in 核销)
and `TierEventQuota` (how many tier-included events a tier gives per membership year).

A registration's status moves only through `courses.events.registration_states.registration_transition`
(one table of legal moves).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from courses.models.sources import Source

__all__ = [
    "Event",
    "EventRegistration",
    "TICKET_ALPHABET",
    "TierEventQuota",
    "generate_ticket_code",
]


# No 0/O/1/I/L: staff type ticket codes at the door.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def generate_ticket_code() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


class Event(TimeStampedModel):
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(_("一句话简介"), max_length=200, blank=True, default="")
    description = models.TextField(_("介绍"), blank=True, default="")
    cover = models.ImageField(_("封面"), upload_to="courses/events/", blank=True)
    city = models.CharField(_("城市"), max_length=32, blank=True, default="")
    venue = models.CharField(_("场地"), max_length=120)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    price_fen = models.PositiveBigIntegerField(_("报名费（分）"), default=0, help_text=_("0 = 免费报名"))
    included_in_tiers = models.ManyToManyField(
        "members.MembershipTier", blank=True, related_name="events", verbose_name=_("会员免费报名")
    )
    registration_closes_at = models.DateTimeField(
        _("报名截止"), null=True, blank=True, help_text=_("留空 = 开始前均可报名")
    )
    refund_cutoff_hours = models.PositiveIntegerField(_("自助退款截止（开始前小时数）"), default=24)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="organized_events",
        verbose_name=_("主办人"),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="staffed_events", verbose_name=_("核销工作人员")
    )
    is_published = models.BooleanField(_("已发布"), default=True)

    class Meta:
        verbose_name = _("线下课")
        verbose_name_plural = _("线下课")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="event_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def closes_at(self):
        return self.registration_closes_at or self.starts_at


class TierEventQuota(models.Model):
    """How many tier-included events a member of `tier` may register for per membership year.

    A tier without a row (or with 0) has no limit. Lives here because members never imports courses.
    """

    tier = models.OneToOneField(
        "members.MembershipTier",
        on_delete=models.CASCADE,
        related_name="event_quota",
        verbose_name=_("会员等级"),
    )
    events_per_year = models.PositiveSmallIntegerField(
        _("每会员年可免费报名场次"), default=1, help_text=_("0 = 不限")
    )

    class Meta:
        verbose_name = _("会员线下课额度")
        verbose_name_plural = _("会员线下课额度")

    def __str__(self) -> str:
        return _("%(tier)s：每年 %(count)s 场") % {"tier": self.tier_id, "count": self.events_per_year}


class EventRegistration(TimeStampedModel):
    """One member's registration for one event: a held seat awaiting payment, a ticket, or a waitlist place.

    Seats taken = confirmed + pending with an unexpired hold, counted under the event's row lock, so the
    last seat is never given twice. Check-in (核销) is one conditional UPDATE, so it happens exactly once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待支付（占座中）")
        CONFIRMED = "confirmed", _("已报名")
        WAITLISTED = "waitlisted", _("候补中")
        CANCELLED = "cancelled", _("已取消")
        REFUNDED = "refunded", _("已退款")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("活动")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_registrations",
        verbose_name=_("用户"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, db_index=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, blank=True, default="")
    order_no = models.CharField(_("订单号"), max_length=32, null=True, blank=True, unique=True)
    ticket_code = models.CharField(_("票码"), max_length=16, null=True, blank=True, unique=True)
    hold_expires_at = models.DateTimeField(_("占座截止"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("候补时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("报名成功时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=64, blank=True, default="")
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("签到核验人"),
    )

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="uniq_event_registration"),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(ticket_code__isnull=False), name="confirmed_has_ticket"
            ),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True) | Q(ticket_code__isnull=False),
                name="checked_in_has_ticket",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "waitlisted_at"], name="event_reg_status_idx"),
            models.Index(fields=["user", "source", "confirmed_at"], name="event_reg_quota_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.event_id} ({self.status})"
