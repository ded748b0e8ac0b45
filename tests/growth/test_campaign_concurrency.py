"""A campaign reaches each member at most once when two workers race it (real PostgreSQL): the
snapshot, the claims and the deliveries all hold under concurrency, and the database refuses a second
delivery row for a member."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from growth.campaigns import services
from growth.models import Campaign, CampaignDelivery, Segment
from growth.segments.rules import rule_validate
from members.models import Notification
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.growth.conftest import VIP_ENDING, make_campaign, vip_ending

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scheduled_campaign():
    sender = UserFactory(is_staff=True, is_superuser=True)
    vip_ending(12)
    segment = Segment.objects.create(
        name="VIP 30 天内到期", rule=rule_validate(VIP_ENDING), created_by=sender
    )
    campaign = make_campaign(segment, sender, rate_per_minute=1000)
    return services.campaign_schedule(campaign=campaign, operator=sender)


def test_four_workers_starting_the_same_campaign_send_each_member_once(scheduled_campaign):
    jobs = [lambda: services.campaign_send_slice(campaign_id=scheduled_campaign.pk) for _i in range(4)]
    results = run_together(jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    notes = Notification.objects.filter(kind="campaign")
    assert notes.count() == 12
    assert notes.values("user").distinct().count() == 12
    assert CampaignDelivery.objects.filter(campaign=scheduled_campaign).count() == 12
    assert sum(r.claimed for r in results) == 12
    scheduled_campaign.refresh_from_db()
    assert scheduled_campaign.state == Campaign.State.DONE


def test_racing_workers_share_the_minutes_rate_limit(scheduled_campaign):
    Campaign.objects.filter(pk=scheduled_campaign.pk).update(rate_per_minute=5)
    results = run_together(
        [lambda: services.campaign_send_slice(campaign_id=scheduled_campaign.pk) for _i in range(4)]
    )
    assert sum(r.claimed for r in results) == 5, results
    assert Notification.objects.filter(kind="campaign").count() == 5


def test_the_database_refuses_a_second_delivery_for_a_member(scheduled_campaign):
    services.campaign_send_slice(campaign_id=scheduled_campaign.pk)
    delivery = CampaignDelivery.objects.filter(campaign=scheduled_campaign).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignDelivery.objects.create(campaign=scheduled_campaign, user=delivery.user)
