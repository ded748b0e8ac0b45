"""Fixtures of the growth tests: an operator who may send, a segment, and a campaign builder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from growth.campaigns.sms import ConsoleMarketingSmsSender
from growth.models import Campaign, Segment
from growth.segments.rules import rule_validate
from members.models import Membership
from tests.courses.factories import vip_tier
from tests.factories import UserFactory
from tests.fakes.wechat_members import MembersWeChat

VIP_ENDING = {"conditions": [{"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30}]}


@pytest.fixture
def sender(db):
    return UserFactory(is_staff=True, is_superuser=True, username="sender")


@pytest.fixture
def vip_ending_segment(sender):
    vip_tier()
    return Segment.objects.create(name="VIP 30 天内到期", rule=rule_validate(VIP_ENDING), created_by=sender)


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    ConsoleMarketingSmsSender.outbox.clear()
    yield
    ConsoleMarketingSmsSender.outbox.clear()


@pytest.fixture
def mp_wechat(fake_wechat) -> MembersWeChat:
    return MembersWeChat(fake=fake_wechat).install()


def vip_ending(n: int, *, prefix: str = "m", **fields) -> list:
    """n members whose VIP ends in 20 days (the segment above)."""
    tier = vip_tier()
    now = timezone.now()
    members = []
    for i in range(n):
        user = UserFactory(username=f"{prefix}{i}", **fields)
        Membership.objects.create(
            user=user, tier=tier, starts_at=now - timedelta(days=345), ends_at=now + timedelta(days=20)
        )
        members.append(user)
    return members


def make_campaign(segment, sender, **fields) -> Campaign:
    return Campaign.objects.create(
        name=fields.pop("name", "续费提醒"),
        segment=segment,
        title=fields.pop("title", "你的 VIP 即将到期"),
        body=fields.pop("body", "续费后顺延 365 天"),
        created_by=sender,
        **fields,
    )


def run_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)
