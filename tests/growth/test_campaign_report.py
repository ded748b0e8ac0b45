"""A campaign's line in /ops/ 增长活动: the orders its reached members paid within 7 days after their
delivery (growth.campaigns.selectors.campaign_orders, grouped), by the dashboard's definitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from growth.campaigns import services
from growth.campaigns.selectors import campaign_orders
from growth.models import CampaignDelivery
from insights.periods import parse_period
from insights.selectors import dashboard_table
from tests.courses.factories import make_course
from tests.factories import UserFactory
from tests.growth.conftest import make_campaign, vip_ending
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db


def test_a_campaign_row_counts_what_reached_members_paid_in_the_window(vip_ending_segment, sender):
    recent, stale, buyer_twice = vip_ending(3)
    outsider = UserFactory()
    course, other = make_course(price_fen=19_900), make_course(price_fen=9_900)
    campaign = make_campaign(vip_ending_segment, sender)
    services.campaign_schedule(campaign=campaign, operator=sender, at=timezone.now() - timedelta(days=9))
    services.campaign_send_slice(campaign_id=campaign.pk, now=timezone.now() - timedelta(days=9))
    CampaignDelivery.objects.filter(campaign=campaign, user__in=[recent, buyer_twice]).update(
        delivered_at=timezone.now() - timedelta(days=2)
    )
    for user in (recent, stale, outsider):
        create_paid_order(user=user, item_type="course", item_id=str(course.pk))
    create_paid_order(user=buyer_twice, item_type="course", item_id=str(course.pk))
    create_paid_order(user=buyer_twice, item_type="course", item_id=str(other.pk))

    table = dashboard_table("promotion_campaigns", parse_period({"range": "30d"}))

    row = next(row for row in table.rows if row["id"] == campaign.pk)
    attributed = campaign_orders(campaign)
    assert row["orders"] == attributed.count() == 3
    # VIP members pay the tier price: the row adds up what they actually paid.
    assert row["gmv"] == sum(order.amount_fen for order in attributed) > 0
    assert row["discount"] == sum(order.discount_fen for order in attributed)
    assert row["segment__name"] == vip_ending_segment.name and row["refunds"] == 0
