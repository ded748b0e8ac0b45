"""Campaigns: scheduled by a sender, sent once per member however often the job runs, at most N per
minute, through each channel only where the member allows it, with figures an operator can trust and
the orders they brought attributed by the 7-day rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core import roles
from core.errors import ApplicationError
from core.models import AuditLog, WeChatIdentity
from growth import tasks
from growth.campaigns import services
from growth.campaigns.preferences import preference_update
from growth.campaigns.selectors import campaign_figures, campaign_orders
from growth.campaigns.sms import ConsoleMarketingSmsSender
from growth.models import Campaign, CampaignDelivery, Coupon, MemberCoupon
from insights.roles import roles_setup
from members.models import Notification, SubscribeTemplate
from members.notifications.opt_ins import subscribe_optin_record
from members.notifications.selectors import subscribe_optins_left
from members.notifications.services import notification_mark_read
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.conftest import make_campaign, run_on_commit, vip_ending
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db


def schedule(campaign, sender, **kwargs):
    return services.campaign_schedule(campaign=campaign, operator=sender, **kwargs)


def campaign_notifications(user=None):
    found = Notification.objects.filter(kind="campaign")
    return found.filter(user=user) if user else found


# ---- scheduling -------------------------------------------------------------------------------------------


def test_only_staff_with_the_send_permission_schedule_and_the_scheduler_is_recorded(
    vip_ending_segment, sender
):
    campaign = make_campaign(vip_ending_segment, sender)
    roles_setup()
    operator = UserFactory(is_staff=True)
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    teacher = UserFactory(is_staff=True)
    teacher.groups.add(Group.objects.get(name=roles.TEACHER))

    with pytest.raises(ApplicationError) as refused:
        schedule(campaign, teacher)
    assert refused.value.status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT

    schedule(campaign, operator)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED and campaign.scheduled_by == operator
    assert AuditLog.objects.filter(action="growth.campaign_scheduled", actor=operator).exists()


def test_nothing_is_sent_before_the_scheduled_time(vip_ending_segment, sender):
    vip_ending(2)
    campaign = make_campaign(vip_ending_segment, sender)
    schedule(campaign, sender, at=timezone.now() + timedelta(hours=1))
    services.campaign_send_slice(campaign_id=campaign.pk)
    assert not CampaignDelivery.objects.exists() and not campaign_notifications().exists()
    assert services.campaigns_due() == []


def test_a_subscribe_message_needs_the_in_site_notification_and_a_configured_template(vip_ending_segment):
    with pytest.raises(ApplicationError) as refused:
        services.campaign_check(
            send_insite=False, send_subscribe=True, subscribe_template="", send_sms=True, segment_rule={}
        )
    assert refused.value.code == "campaign_subscribe_needs_insite"
    with pytest.raises(ApplicationError) as refused:
        services.campaign_check(
            send_insite=True, send_subscribe=True, subscribe_template="nope", send_sms=False, segment_rule={}
        )
    assert refused.value.code == "campaign_template_missing"


# ---- once per member --------------------------------------------------------------------------------------


def test_each_member_gets_the_campaign_once_even_when_the_job_runs_twice(vip_ending_segment, sender):
    members = vip_ending(3)
    UserFactory(username="not_in_segment")
    campaign = make_campaign(vip_ending_segment, sender, link="/membership/VIP/")
    schedule(campaign, sender)

    tasks.campaigns_sweep()  # eager in tests: the sweep runs one slice of the due campaign
    tasks.campaign_send_slice(campaign.pk)  # a redelivered task
    services.campaign_send_slice(campaign_id=campaign.pk)

    for user in members:
        assert campaign_notifications(user).count() == 1
    assert campaign_notifications().count() == 3
    note = campaign_notifications(members[0]).get()
    assert (note.title, note.url) == ("你的 VIP 即将到期", "/membership/VIP/")
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE and campaign.recipients == 3
    figures = campaign_figures(campaign)
    assert (figures.recipients, figures.insite_sent, figures.pending) == (3, 3, 0)


def test_recipients_are_the_segment_when_sending_starts(vip_ending_segment, sender):
    vip_ending(2)
    campaign = make_campaign(vip_ending_segment, sender, rate_per_minute=1)
    schedule(campaign, sender)
    now = timezone.now()
    services.campaign_send_slice(campaign_id=campaign.pk, now=now)
    vip_ending(1, prefix="late")  # joins the segment after the snapshot
    services.campaign_send_slice(campaign_id=campaign.pk, now=now + timedelta(seconds=61))
    services.campaign_send_slice(campaign_id=campaign.pk, now=now + timedelta(seconds=122))
    assert campaign_notifications().count() == 2
    assert not campaign_notifications().filter(user__username="late0").exists()


# ---- rate limit -------------------------------------------------------------------------------------------


def test_at_most_n_members_a_minute_the_rest_in_later_slices(vip_ending_segment, sender):
    vip_ending(5)
    campaign = make_campaign(vip_ending_segment, sender, rate_per_minute=2)
    schedule(campaign, sender)
    start = timezone.now()

    first = services.campaign_send_slice(campaign_id=campaign.pk, now=start)
    again = services.campaign_send_slice(campaign_id=campaign.pk, now=start + timedelta(seconds=30))
    assert (first.claimed, first.pending) == (2, 3)
    assert again.claimed == 0  # the minute's budget is spent, however often the job runs
    assert campaign_notifications().count() == 2

    second = services.campaign_send_slice(campaign_id=campaign.pk, now=start + timedelta(seconds=61))
    third = services.campaign_send_slice(campaign_id=campaign.pk, now=start + timedelta(seconds=122))
    assert (second.claimed, third.claimed) == (2, 1)
    assert third.state == Campaign.State.DONE
    assert campaign_notifications().count() == 5


def test_cancelling_stops_the_members_not_yet_sent(vip_ending_segment, sender):
    vip_ending(3)
    campaign = make_campaign(vip_ending_segment, sender, rate_per_minute=1)
    schedule(campaign, sender)
    start = timezone.now()
    services.campaign_send_slice(campaign_id=campaign.pk, now=start)
    services.campaign_cancel(campaign=campaign, operator=sender, reason="文案有误")
    services.campaign_send_slice(campaign_id=campaign.pk, now=start + timedelta(minutes=5))
    assert campaign_notifications().count() == 1
    assert campaign_figures(campaign).pending == 2
    with pytest.raises(ApplicationError) as refused:
        schedule(campaign, sender)
    assert refused.value.code == "illegal_transition"


# ---- channels and consent ---------------------------------------------------------------------------------


@pytest.fixture
def offer_template(db):
    return SubscribeTemplate.objects.create(
        key="campaign_offer",
        name="活动通知",
        template_id="tmpl-offer-1",
        fields="thing1,thing2",
        page="pages/me/index",
    )


def test_subscribe_messages_go_only_with_an_opt_in_left_which_they_consume(
    vip_ending_segment, sender, offer_template, mp_wechat, settings
):
    opted, no_optin, web_only = vip_ending(3)
    for user in (opted, no_optin):
        WeChatIdentity.objects.create(
            user=user,
            kind=WeChatIdentity.Kind.MINIPROGRAM,
            appid=settings.WECHAT_MINIPROGRAM_APPID,
            openid=f"o_growth_{user.pk:020d}",
        )
    mp_wechat.template("tmpl-offer-1", ["thing1", "thing2"])
    mp_wechat.accept(f"o_growth_{opted.pk:020d}", "tmpl-offer-1", times=1)
    subscribe_optin_record(user=opted, template_key="campaign_offer", count=1)
    subscribe_optin_record(user=web_only, template_key="campaign_offer", count=1)  # but no openid
    campaign = make_campaign(
        vip_ending_segment, sender, send_subscribe=True, subscribe_template="campaign_offer"
    )
    schedule(campaign, sender)

    with run_on_commit():
        services.campaign_send_slice(campaign_id=campaign.pk)

    assert len(mp_wechat.sent) == 1 and mp_wechat.sent[0]["touser"] == f"o_growth_{opted.pk:020d}"
    assert subscribe_optins_left(opted, "campaign_offer") == 0  # consumed
    assert subscribe_optins_left(web_only, "campaign_offer") == 1  # nothing sent, nothing used
    figures = campaign_figures(campaign)
    assert (figures.subscribe_sent, figures.subscribe_skipped, figures.insite_sent) == (1, 2, 3)


def test_sms_only_to_members_who_agreed_and_have_a_phone(vip_ending_segment, sender):
    agreed, agreed_no_phone, silent = vip_ending(3)
    agreed.set_phone("13800138001", verified=True)
    agreed.save()
    silent.set_phone("13800138002", verified=True)
    silent.save()
    for user in (agreed, agreed_no_phone):
        preference_update(user=user, sms_consent=True)
    campaign = make_campaign(
        vip_ending_segment, sender, send_insite=False, send_sms=True, sms_text="VIP 续费立减"
    )
    schedule(campaign, sender)

    services.campaign_send_slice(campaign_id=campaign.pk)

    assert [phone for phone, _text in ConsoleMarketingSmsSender.outbox] == ["+8613800138001"]
    assert "VIP 续费立减" in ConsoleMarketingSmsSender.outbox[0][1]
    assert not campaign_notifications().exists()  # SMS only
    figures = campaign_figures(campaign)
    assert (figures.sms_sent, figures.sms_no_phone, figures.sms_no_consent) == (1, 1, 1)
    assert figures.skipped == 2


class BrokenSmsSender:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("provider down")


def test_a_failed_sms_is_counted_and_never_retried(vip_ending_segment, sender, settings):
    (member,) = vip_ending(1)
    member.set_phone("13800138003", verified=True)
    member.save()
    preference_update(user=member, sms_consent=True)
    settings.MARKETING_SMS_SENDER = f"{__name__}.BrokenSmsSender"
    campaign = make_campaign(vip_ending_segment, sender, send_sms=True)
    schedule(campaign, sender)
    services.campaign_send_slice(campaign_id=campaign.pk)
    settings.MARKETING_SMS_SENDER = "growth.campaigns.sms.ConsoleMarketingSmsSender"
    services.campaign_send_slice(campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=2))
    figures = campaign_figures(campaign)
    assert (figures.sms_failed, figures.failed, figures.insite_sent) == (1, 1, 1)
    assert ConsoleMarketingSmsSender.outbox == []


def test_unsubscribed_members_get_nothing_and_are_counted(vip_ending_segment, sender):
    stays, leaves = vip_ending(2)
    leaves.set_phone("13800138004", verified=True)
    leaves.save()
    preference_update(user=leaves, sms_consent=True, unsubscribed=True)
    campaign = make_campaign(vip_ending_segment, sender, send_sms=True)
    schedule(campaign, sender)
    services.campaign_send_slice(campaign_id=campaign.pk)
    assert campaign_notifications(stays).count() == 1
    assert not campaign_notifications(leaves).exists() and ConsoleMarketingSmsSender.outbox == []
    figures = campaign_figures(campaign)
    assert (figures.recipients, figures.unsubscribed, figures.insite_sent) == (2, 1, 1)


def test_figures_count_read_notifications(vip_ending_segment, sender):
    reader, _other = vip_ending(2)
    campaign = make_campaign(vip_ending_segment, sender)
    schedule(campaign, sender)
    services.campaign_send_slice(campaign_id=campaign.pk)
    notification_mark_read(user=reader, notification_id=campaign_notifications(reader).get().pk)
    figures = campaign_figures(campaign)
    assert (figures.insite_sent, figures.insite_read) == (2, 1)


# ---- attribution ------------------------------------------------------------------------------------------


def test_orders_paid_by_recipients_within_7_days_after_delivery_are_attributed(vip_ending_segment, sender):
    recent, stale = vip_ending(2)
    outsider = UserFactory()
    course = make_course()
    campaign = make_campaign(vip_ending_segment, sender)
    schedule(campaign, sender, at=timezone.now() - timedelta(days=9))
    services.campaign_send_slice(campaign_id=campaign.pk, now=timezone.now() - timedelta(days=9))
    # `recent` was reached 2 days ago (a later slice), `stale` 9 days ago
    CampaignDelivery.objects.filter(campaign=campaign, user=recent).update(
        delivered_at=timezone.now() - timedelta(days=2)
    )
    orders = [
        create_paid_order(user=user, item_type="course", item_id=str(course.pk), channel="wechat_jsapi")
        for user in (recent, stale, outsider)
    ]
    assert list(campaign_orders(campaign)) == [orders[0]]


def test_a_campaign_with_a_coupon_gives_each_reached_member_one_copy_whatever_runs_twice(
    vip_ending_segment, sender
):
    reached, unsubscribed = vip_ending(2)
    preference_update(user=unsubscribed, unsubscribed=True)
    coupon = Coupon.objects.create(name="续费立减", kind="amount", amount_off_fen=3_000, created_by=sender)
    campaign = make_campaign(vip_ending_segment, sender, coupon=coupon, link="")
    schedule(campaign, sender)
    services.campaign_send_slice(campaign_id=campaign.pk)
    services.campaign_send_slice(campaign_id=campaign.pk)  # the job runs twice

    copies = MemberCoupon.objects.filter(coupon=coupon)
    assert list(copies.values_list("user", "source")) == [(reached.pk, MemberCoupon.Source.CAMPAIGN)]
    assert campaign_notifications(reached).get().url == "/growth/coupons/"
    assert not campaign_notifications(unsubscribed).exists()
