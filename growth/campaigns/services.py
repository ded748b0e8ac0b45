"""Campaigns: checking one before it is scheduled, scheduling and cancelling it, and sending it in
slices once its time has come.

The rules:
- a campaign moves draft → scheduled → sending → done, and to cancelled from any state before done
  (scheduled → draft takes it back for editing); one function moves it and writes the audit row;
- only staff with `growth.send_campaign` schedule a campaign, and the campaign records who did;
- recipients are snapshot when sending starts: one CampaignDelivery per member, unique per
  (campaign, member), so a member gets a campaign at most once however often the job runs and
  however many workers race;
- at most `rate_per_minute` members are claimed in any 60 seconds: a slice takes what the last
  minute's claims left of the budget, with the campaign's row locked, and leaves the rest for the
  next minute's sweep (`growth.tasks.campaigns_sweep`);
- a claimed member is delivered in its own transaction (`growth.campaigns.delivery`); one left
  claimed by a worker that died is claimed again only if nothing was delivered to them yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from growth.campaigns.delivery import delivery_send
from growth.models import Campaign, CampaignDelivery, ChannelStatus
from growth.segments.rules import rule_queryset, rule_validate
from members.notifications.selectors import subscribe_template_get

logger = logging.getLogger(__name__)

State = Campaign.State
TRANSITIONS: dict[str, set[str]] = {
    State.DRAFT: {State.SCHEDULED, State.CANCELLED},
    State.SCHEDULED: {State.DRAFT, State.SENDING, State.CANCELLED},
    State.SENDING: {State.DONE, State.CANCELLED},
    State.DONE: set(),
    State.CANCELLED: set(),
}
RATE_WINDOW = timedelta(seconds=60)
# A member claimed this long ago and still not delivered was left by a worker that died.
STALE_CLAIM = timedelta(minutes=10)
SEND_PERMISSION = "growth.send_campaign"


def campaign_transition(*, campaign: Campaign, to: str, actor, note: str = "") -> Campaign:
    """Move a locked campaign to `to` (409 illegal_transition otherwise), with its audit row."""
    if to not in TRANSITIONS[campaign.state]:
        raise ApplicationError(
            "illegal_transition",
            _("活动当前为「%(state)s」，不能改为「%(to)s」")
            % {"state": campaign.get_state_display(), "to": State(to).label},
            status_code=409,
        )
    before, campaign.state = campaign.state, to
    campaign.save(update_fields=["state", "scheduled_by", "scheduled_at", "started_at", "finished_at"])
    audit_record(
        actor=actor,
        action=f"growth.campaign_{to}",
        target=campaign,
        summary=f"群发活动「{campaign.name}」{State(before).label} → {State(to).label}"
        + (f"：{note}" if note else ""),
    )
    return campaign


def campaign_check(
    *,
    send_insite: bool,
    send_subscribe: bool,
    subscribe_template: str,
    send_sms: bool,
    segment_rule,
) -> None:
    """What a campaign must have to be sent (the admin form asks first): a channel, a configured
    subscribe-message template when that channel is on (it mirrors the in-site notification), and a
    valid segment rule. ApplicationError names the field."""
    if not (send_insite or send_sms):
        raise ApplicationError(
            "campaign_no_channel", _("请至少选择一个渠道"), fields={"send_insite": [_("请至少选择一个渠道")]}
        )
    if send_subscribe:
        if not send_insite:
            message = _("订阅消息随站内通知发出，请同时勾选站内通知")
            raise ApplicationError(
                "campaign_subscribe_needs_insite", message, fields={"send_subscribe": [message]}
            )
        if subscribe_template_get(subscribe_template) is None:
            message = _("请选择已配置微信模板ID的订阅消息模板")
            raise ApplicationError(
                "campaign_template_missing", message, fields={"subscribe_template": [message]}
            )
    try:
        rule_validate(segment_rule)
    except ApplicationError as exc:
        raise ApplicationError(
            exc.code, exc.message, fields={"segment": exc.fields.get("rule", [])}
        ) from None


def can_send(user) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm(SEND_PERMISSION))


def campaign_schedule(*, campaign: Campaign, operator, at: datetime | None = None) -> Campaign:
    """Schedule a draft to go at `at` (now when empty). Only a sender may; recorded with who did."""
    if not can_send(operator):
        raise ApplicationError("permission_denied", _("你没有安排发送群发活动的权限"), status_code=403)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().select_related("segment").get(pk=campaign.pk)
        campaign_check(
            send_insite=locked.send_insite,
            send_subscribe=locked.send_subscribe,
            subscribe_template=locked.subscribe_template,
            send_sms=locked.send_sms,
            segment_rule=locked.segment.rule,
        )
        locked.scheduled_at = at or locked.scheduled_at or timezone.now()
        locked.scheduled_by = operator
        when = timezone.localtime(locked.scheduled_at).strftime("%Y-%m-%d %H:%M")
        return campaign_transition(campaign=locked, to=State.SCHEDULED, actor=operator, note=when)


def campaign_unschedule(*, campaign: Campaign, operator) -> Campaign:
    """Take a scheduled campaign back to draft (to edit it) before it starts."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        locked.scheduled_by = None
        return campaign_transition(campaign=locked, to=State.DRAFT, actor=operator)


def campaign_cancel(*, campaign: Campaign, operator, reason: str = "") -> Campaign:
    """Stop a campaign: members not yet sent to get nothing (those sent keep what they got)."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        locked.finished_at = timezone.now()
        return campaign_transition(campaign=locked, to=State.CANCELLED, actor=operator, note=reason)


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Campaigns with something to send: scheduled and due, or sending."""
    now = now or timezone.now()
    return list(
        Campaign.objects.filter(state__in=[State.SCHEDULED, State.SENDING], scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )


def _snapshot(campaign: Campaign, now: datetime) -> int:
    """One pending delivery per member of the segment now (a second run adds nobody twice)."""
    members = rule_queryset(campaign.segment.rule, now=now).order_by("pk").values_list("pk", flat=True)
    batch: list[CampaignDelivery] = []
    for user_id in members.iterator(chunk_size=2000):
        batch.append(CampaignDelivery(campaign=campaign, user_id=user_id))
        if len(batch) >= 2000:
            CampaignDelivery.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    CampaignDelivery.objects.bulk_create(batch, ignore_conflicts=True)
    return CampaignDelivery.objects.filter(campaign=campaign).count()


@dataclass(frozen=True)
class Slice:
    claimed: int
    pending: int
    state: str


def campaign_send_slice(*, campaign_id: int, now: datetime | None = None) -> Slice | None:
    """Send the next slice of a due campaign: start it (snapshot) if it is scheduled and due, claim
    what the rate limit allows this minute, deliver each claimed member, and finish the campaign when
    nobody is left. Safe to run twice and on two workers at once."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update().select_related("segment").filter(pk=campaign_id).first()
        )
        if campaign is None:
            return None
        if campaign.state == State.SCHEDULED and campaign.scheduled_at and campaign.scheduled_at <= now:
            try:
                campaign.recipients = _snapshot(campaign, now)
            except ApplicationError as exc:  # the segment's rule names something deleted since
                logger.warning("campaign %s not started: %s", campaign.pk, exc.message)
                campaign.finished_at = now
                campaign_transition(campaign=campaign, to=State.CANCELLED, actor=None, note=exc.message)
                return Slice(claimed=0, pending=0, state=campaign.state)
            campaign.started_at = now
            campaign.save(update_fields=["recipients"])
            campaign_transition(campaign=campaign, to=State.SENDING, actor=campaign.scheduled_by)
        if campaign.state != State.SENDING:
            return Slice(claimed=0, pending=0, state=campaign.state)
        deliveries = CampaignDelivery.objects.filter(campaign=campaign)
        # Claimed by a worker that died before delivering anything: nothing went out, claim again.
        deliveries.filter(
            status=CampaignDelivery.Status.SENDING,
            claimed_at__lt=now - STALE_CLAIM,
            delivered_at__isnull=True,
            notification__isnull=True,
            sms_status=ChannelStatus.NONE,
        ).update(status=CampaignDelivery.Status.PENDING)
        budget = campaign.rate_per_minute - deliveries.filter(claimed_at__gt=now - RATE_WINDOW).count()
        claimed: list[int] = []
        if budget > 0:
            claimed = list(
                deliveries.filter(status=CampaignDelivery.Status.PENDING)
                .order_by("pk")
                .values_list("pk", flat=True)[:budget]
            )
            deliveries.filter(pk__in=claimed).update(status=CampaignDelivery.Status.SENDING, claimed_at=now)
    for delivery_id in claimed:  # each its own transaction; an SMS goes out with no lock held
        delivery_send(delivery_id=delivery_id, now=now)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        open_rows = CampaignDelivery.objects.filter(
            campaign=campaign, status__in=[CampaignDelivery.Status.PENDING, CampaignDelivery.Status.SENDING]
        )
        pending = open_rows.filter(status=CampaignDelivery.Status.PENDING).count()
        stuck_sms = open_rows.filter(claimed_at__lt=now - STALE_CLAIM, sms_status=ChannelStatus.SENDING)
        # An SMS whose worker died mid-call may or may not have left: counted failed, never sent again.
        stuck_sms.update(
            status=CampaignDelivery.Status.DONE, sms_status=ChannelStatus.FAILED, error="interrupted"
        )
        if campaign.state == State.SENDING and not open_rows.exists():
            campaign.finished_at = now
            campaign_transition(campaign=campaign, to=State.DONE, actor=campaign.scheduled_by)
    return Slice(claimed=len(claimed), pending=pending, state=campaign.state)
