"""The daily membership sweep: renewal reminders at 30/7/1 days and the expiry notice, each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import WeChatIdentity
from members import tasks
from members.memberships.reminders import memberships_sweep
from members.models import MembershipReminder, Notification, SubscribeTemplate
from members.notifications.opt_ins import subscribe_optin_record
from tests.members.helpers import age, buy


def reminders(user):
    return list(
        Notification.objects.filter(user=user, kind__in=["renewal_reminder", "membership_expired"])
        .order_by("created_at", "id")
        .values_list("title", flat=True)
    )


@pytest.mark.parametrize(
    ("aged_days", "expected"),
    [
        (335, "您的VIP会员将在 30 天后到期"),
        (358, "您的VIP会员将在 7 天后到期"),
        (364, "您的VIP会员将于明天到期"),
    ],
)
def test_reminder_at_each_threshold_once(member, vip, aged_days, expected):
    buy(member, "VIP")
    age(member, aged_days)
    assert memberships_sweep() == {"reminded": 1, "expired": 0}
    assert memberships_sweep() == {"reminded": 0, "expired": 0}  # the second run sends nothing
    assert reminders(member) == [expected]


def test_no_reminder_far_from_the_end(member, vip):
    buy(member, "VIP")
    age(member, 100)
    assert memberships_sweep() == {"reminded": 0, "expired": 0}


def test_a_missed_day_still_reminds_with_the_real_days_left(member, vip):
    buy(member, "VIP")
    age(member, 345)  # 20 days left: the 30-day run was missed
    memberships_sweep()
    assert reminders(member) == ["您的VIP会员将在 20 天后到期"]
    age(member, 13)  # 7 days left
    memberships_sweep()
    age(member, 6)  # 1 day left
    memberships_sweep()
    assert len(reminders(member)) == 3


def test_the_seven_day_reminder_does_not_also_send_the_thirty_day_one(member, vip):
    buy(member, "VIP")
    age(member, 360)  # 5 days left, nothing sent yet
    memberships_sweep()
    assert reminders(member) == ["您的VIP会员将在 5 天后到期"]
    assert list(MembershipReminder.objects.values_list("kind", flat=True)) == ["7"]


def test_renewal_moves_the_end_and_reminders_start_over(member, vip):
    buy(member, "VIP")
    age(member, 358)
    memberships_sweep()
    buy(member, "VIP")  # renew: the end moves 365 days
    age(member, 365)
    memberships_sweep()
    assert reminders(member) == ["您的VIP会员将在 7 天后到期", "您的VIP会员将在 7 天后到期"]


def test_expired_membership_gets_one_notice(member, vip):
    buy(member, "VIP")
    age(member, 366)
    assert memberships_sweep()["expired"] == 1
    assert memberships_sweep()["expired"] == 0
    assert reminders(member)[-1] == "您的VIP会员已到期"


def test_a_refunded_membership_gets_no_expiry_notice(member, vip):
    from tests.payments.helpers import refund_order

    order = buy(member, "VIP")
    refund_order(order=order)
    assert memberships_sweep(now=timezone.now() + timedelta(minutes=1))["expired"] == 0


def test_reminder_goes_out_as_a_subscribe_message_when_the_member_opted_in(member, vip, mp_wechat, settings):
    from tests.members.conftest import run_on_commit

    SubscribeTemplate.objects.create(
        key="renewal_reminder", name="续费提醒", template_id="tmpl-renew", fields="thing1,time2"
    )
    openid = "oREMIND0000000000000000000001"
    WeChatIdentity.objects.create(
        user=member,
        kind=WeChatIdentity.Kind.MINIPROGRAM,
        appid=settings.WECHAT_MINIPROGRAM_APPID,
        openid=openid,
    )
    mp_wechat.template("tmpl-renew", ["thing1", "time2"])
    mp_wechat.accept(openid, "tmpl-renew")
    subscribe_optin_record(user=member, template_key="renewal_reminder")
    buy(member, "VIP")
    age(member, 358)
    with run_on_commit():
        tasks.membership_sweep.delay()
    assert len(mp_wechat.sent) == 1
    assert mp_wechat.sent[0]["data"]["thing1"]["value"] == "您的VIP会员将在 7 天后到期"
