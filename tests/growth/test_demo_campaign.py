"""The demo as an operator would try it: seed_demo makes the segment "VIP whose membership ends within
30 days" with a member in it and a draft campaign to it; the operator schedules it and the member finds
the message, with its unsubscribe link, under 消息通知."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from growth.campaigns import services
from growth.campaigns.selectors import campaign_figures
from growth.models import Campaign, Segment
from growth.segments.rules import rule_preview
from sampledata.demo.growth import CAMPAIGN_NAME, RENEWAL_MEMBER, SEGMENT_NAME

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


def test_the_demo_renewal_campaign_reaches_the_vip_about_to_expire(client):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    segment = Segment.objects.get(name=SEGMENT_NAME)
    member = get_user_model().objects.get(username=RENEWAL_MEMBER)
    preview = rule_preview(segment.rule)
    assert member in preview.sample and preview.count >= 1

    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    operator = get_user_model().objects.get(username="operator")
    services.campaign_schedule(campaign=campaign, operator=operator)
    services.campaign_send_slice(campaign_id=campaign.pk)
    assert campaign_figures(campaign).insite_sent == preview.count

    client.force_login(member)
    page = client.get("/account/notifications/").content.decode()
    assert "你的 VIP 会员即将到期" in page and "data-unsubscribe" in page
