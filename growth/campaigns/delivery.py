"""Delivering a campaign to one claimed member, through each channel the campaign uses:

- unsubscribed members get nothing (counted `unsubscribed`);
- in-site: a notification of kind `campaign` (members.notifications.services.notification_send),
  created in the same transaction that marks the member done, so it exists exactly once;
- WeChat subscribe message: the notification's mirror, queued only when the member has an opt-in left
  for the template (and a mini-program openid); the push consumes that opt-in
  (`subscribe_optin_consume`) after commit. Without one it is counted skipped (`no_optin`);
- SMS: only with the member's marketing-SMS consent and a phone number; the provider is called after
  the row is marked sending and committed, with no lock held, and never again for that member;
- the campaign's coupon, if it has one: a copy for the member, keyed by the campaign, so a member gets
  at most one per campaign whatever runs twice (growth.coupons.issuing.coupon_issue)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import brand
from core.errors import ApplicationError
from growth.campaigns.sms import marketing_sms_sender
from growth.coupons.issuing import coupon_issue
from growth.models import Campaign, CampaignDelivery, ChannelStatus, Coupon, MarketingPreference, MemberCoupon
from members.models import Notification
from members.notifications.services import notification_send

logger = logging.getLogger(__name__)

KIND = "campaign"


def sms_text(campaign: Campaign) -> str:
    # 【签名】 and an opt-out are what carriers require of marketing SMS in China.
    return f"【{brand.current().short_name}】{campaign.sms_text or campaign.title} 拒收请回复R"


def campaign_coupon_issue(*, campaign: Campaign, coupon: Coupon, user) -> bool:
    """The campaign's coupon for one member it reaches; False when the coupon can no longer be given
    (ended, or its issue limit reached): the message still goes, without it."""
    try:
        with transaction.atomic():  # a savepoint: a refused coupon leaves the delivery's work intact
            result = coupon_issue(
                coupon=coupon,
                users=[user],
                source=MemberCoupon.Source.CAMPAIGN,
                actor=campaign.scheduled_by or campaign.created_by,
                source_key=f"campaign:{campaign.pk}",
            )
    except ApplicationError as exc:
        logger.info("campaign %s: coupon %s not given: %s", campaign.pk, campaign.coupon_id, exc.code)
        return False
    return bool(result.issued or result.already)


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> CampaignDelivery | None:
    """Deliver one claimed member (status `sending`). Does nothing to a row in any other state, or
    while its campaign is not sending (cancelled meanwhile: the member is left unsent)."""
    now = now or timezone.now()
    phone = ""
    with transaction.atomic():
        delivery = (
            CampaignDelivery.objects.select_for_update(of=("self",))
            .select_related("campaign", "campaign__coupon", "user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != CampaignDelivery.Status.SENDING:
            return delivery
        campaign, user = delivery.campaign, delivery.user
        if campaign.state != Campaign.State.SENDING:
            delivery.status = CampaignDelivery.Status.PENDING
            delivery.save(update_fields=["status"])
            return delivery
        preference = MarketingPreference.objects.filter(user=user).first()
        if preference is not None and preference.unsubscribed:
            delivery.status = CampaignDelivery.Status.UNSUBSCRIBED
            delivery.save(update_fields=["status"])
            return delivery
        if campaign.coupon is not None:
            campaign_coupon_issue(campaign=campaign, coupon=campaign.coupon, user=user)
        if campaign.send_insite:
            notification = notification_send(
                user=user,
                kind=KIND,
                title=campaign.title,
                body=campaign.body,
                url=campaign.link or (reverse("growth:my_coupons") if campaign.coupon_id else ""),
                subscribe_template=campaign.subscribe_template if campaign.send_subscribe else "",
            )
            delivery.notification, delivery.insite_status = notification, ChannelStatus.SENT
            if campaign.send_subscribe:
                queued = notification.push_status == Notification.Push.QUEUED
                delivery.subscribe_status = ChannelStatus.QUEUED if queued else ChannelStatus.NO_OPTIN
            delivery.delivered_at = now
        if campaign.send_sms:
            if preference is None or not preference.sms_consent:
                delivery.sms_status = ChannelStatus.NO_CONSENT
            elif not user.phone:
                delivery.sms_status = ChannelStatus.NO_PHONE
            else:
                delivery.sms_status, phone = ChannelStatus.SENDING, user.phone
        if not phone:
            delivery.status = CampaignDelivery.Status.DONE
        delivery.save()
    if not phone:
        return delivery
    error = ""
    try:
        marketing_sms_sender().send(phone, sms_text(campaign))
    except Exception as exc:  # noqa: BLE001 - any provider failure is this member's failed SMS
        error = f"{exc.__class__.__name__}: {exc}"[:255]
        logger.warning("campaign %s SMS to delivery %s failed: %s", campaign.pk, delivery_id, error)
    with transaction.atomic():
        CampaignDelivery.objects.filter(pk=delivery_id, sms_status=ChannelStatus.SENDING).update(
            status=CampaignDelivery.Status.DONE,
            sms_status=ChannelStatus.FAILED if error else ChannelStatus.SENT,
            delivered_at=delivery.delivered_at or (None if error else timezone.now()),
            error=error,
        )
    delivery.refresh_from_db()
    return delivery
