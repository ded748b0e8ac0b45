"""Campaign reads: the delivery figures an operator sees per campaign, and the orders attributed to a
campaign (the reports read them through `campaign_orders`).

Attribution rule: an order belongs to a campaign when it was paid by a member the campaign reached
(at least one channel went out: `delivered_at` is set) within 7 days after that delivery. An order can
belong to more than one campaign; refunded orders stay in the set (the reports show refunds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from growth.models import Campaign, CampaignDelivery, ChannelStatus
from members.models import Notification
from payments.models import Order

ATTRIBUTION_WINDOW = timedelta(days=7)


def campaign_orders(campaign: Campaign) -> QuerySet[Order]:
    """Paid orders (refunded later or not) by the campaign's reached members, paid within
    ATTRIBUTION_WINDOW after their delivery: one statement with an EXISTS."""
    reached = CampaignDelivery.objects.filter(
        campaign=campaign,
        user_id=OuterRef("user_id"),
        delivered_at__isnull=False,
        delivered_at__lte=OuterRef("paid_at"),
        delivered_at__gt=OuterRef("paid_at") - ATTRIBUTION_WINDOW,
    )
    return Order.objects.filter(paid_at__isnull=False).filter(Exists(reached))


@dataclass(frozen=True)
class Figures:
    recipients: int
    pending: int
    unsubscribed: int
    insite_sent: int
    insite_read: int
    subscribe_sent: int
    subscribe_queued: int
    subscribe_skipped: int
    subscribe_failed: int
    sms_sent: int
    sms_no_consent: int
    sms_no_phone: int
    sms_failed: int

    @property
    def skipped(self) -> int:
        return self.unsubscribed + self.subscribe_skipped + self.sms_no_consent + self.sms_no_phone

    @property
    def failed(self) -> int:
        return self.subscribe_failed + self.sms_failed


def campaign_figures(campaign: Campaign) -> Figures:
    """Every figure of one campaign in one statement. A subscribe message counts by its push's own
    outcome (queued at delivery, then sent, failed, or skipped when the opt-in was gone by then)."""
    status, push = CampaignDelivery.Status, Notification.Push
    queued = Q(subscribe_status=ChannelStatus.QUEUED)
    row = CampaignDelivery.objects.filter(campaign=campaign).aggregate(
        recipients=Count("pk"),
        pending=Count("pk", filter=Q(status__in=[status.PENDING, status.SENDING])),
        unsubscribed=Count("pk", filter=Q(status=status.UNSUBSCRIBED)),
        insite_sent=Count("pk", filter=Q(insite_status=ChannelStatus.SENT)),
        insite_read=Count(
            "pk", filter=Q(insite_status=ChannelStatus.SENT, notification__read_at__isnull=False)
        ),
        subscribe_sent=Count("pk", filter=queued & Q(notification__push_status=push.SENT)),
        subscribe_queued=Count(
            "pk", filter=queued & Q(notification__push_status__in=[push.QUEUED, push.SENDING])
        ),
        subscribe_skipped=Count(
            "pk",
            filter=Q(subscribe_status=ChannelStatus.NO_OPTIN)
            | (queued & Q(notification__push_status=push.SKIPPED)),
        ),
        subscribe_failed=Count("pk", filter=queued & Q(notification__push_status=push.FAILED)),
        sms_sent=Count("pk", filter=Q(sms_status=ChannelStatus.SENT)),
        sms_no_consent=Count("pk", filter=Q(sms_status=ChannelStatus.NO_CONSENT)),
        sms_no_phone=Count("pk", filter=Q(sms_status=ChannelStatus.NO_PHONE)),
        sms_failed=Count("pk", filter=Q(sms_status=ChannelStatus.FAILED)),
    )
    return Figures(**row)


def deliveries_of(campaign: Campaign) -> QuerySet[CampaignDelivery]:
    return (
        CampaignDelivery.objects.filter(campaign=campaign)
        .select_related("user", "notification")
        .order_by(F("delivered_at").desc(nulls_last=True), "pk")
    )
