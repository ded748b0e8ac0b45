"""The promotions section of /ops/: what each redeem code batch (and, as they are added, each coupon,
flash sale and campaign) brought in during the period, by the dashboard's own definitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from growth.redeem_codes import services
from insights.metrics.promotions import promotion_kinds, promotion_table
from insights.periods import parse_period
from insights.selectors import dashboard_table
from tests.courses.factories import vip_tier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def last_30_days():
    return parse_period({"range": "30d"})


def redeem_kind():
    return next(kind for kind in promotion_kinds() if kind.key == "promotion_redeem_batches")


@pytest.fixture
def batch():
    tier = vip_tier()
    operator = UserFactory(is_staff=True, is_superuser=True)
    made = services.batch_create(
        name="星河科技 VIP",
        item_type="membership",
        item_id="VIP",
        size=4,
        expires_at=timezone.now() + timedelta(days=30),
        created_by=operator,
    )
    made.tier_price_fen = tier.price_fen
    return made


def test_a_batch_counts_its_redeemed_orders_the_value_given_and_new_members(batch):
    earlier_batch = services.batch_create(
        name="去年的批次",
        item_type="membership",
        item_id="VIP",
        size=1,
        expires_at=timezone.now() + timedelta(days=30),
        created_by=batch.created_by,
    )
    renewing = UserFactory()
    services.code_redeem(user=renewing, raw_code=earlier_batch.codes.get().code)
    codes = list(batch.codes.values_list("code", flat=True))
    services.code_redeem(user=UserFactory(), raw_code=codes[0])
    services.code_redeem(user=UserFactory(), raw_code=codes[1])
    # A member who already had a membership renews through the batch: an order, not a new member.
    services.code_redeem(user=renewing, raw_code=codes[2])

    table = dashboard_table("promotion_redeem_batches", last_30_days())

    assert table is not None
    row = next(row for row in table.rows if row["id"] == batch.pk)
    assert row["name"] == "星河科技 VIP" and row["orders"] == 3
    assert row["gmv"] == 0 and row["discount"] == 3 * batch.tier_price_fen
    assert row["new_members"] == 2 and row["refunds"] == 0 and row["commission"] == 0


def test_orders_outside_the_period_are_not_counted(batch):
    services.code_redeem(user=UserFactory(), raw_code=batch.codes.first().code)
    earlier = parse_period({"start": "2020-01-01", "end": "2020-01-31"})

    row = promotion_table(redeem_kind(), earlier).rows[0]

    assert row["orders"] == 0 and row["discount"] == 0 and row["new_members"] == 0


def test_the_number_of_statements_does_not_grow_with_promotions(batch):
    with CaptureQueriesContext(connection) as one:
        promotion_table(redeem_kind(), last_30_days())
    for index in range(3):
        services.batch_create(
            name=f"批次{index}",
            item_type="membership",
            item_id="VIP",
            size=2,
            expires_at=timezone.now() + timedelta(days=30),
            created_by=batch.created_by,
        )
        services.code_redeem(user=UserFactory(), raw_code=batch.codes.filter(order__isnull=True).first().code)
    with CaptureQueriesContext(connection) as four:
        table = promotion_table(redeem_kind(), last_30_days())

    assert len(table.rows) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_the_dashboard_shows_the_section_and_exports_its_csv(batch, client):
    services.code_redeem(user=UserFactory(), raw_code=batch.codes.first().code)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/ops/?range=30d")
    csv = client.get("/ops/export/table/promotion_redeem_batches.csv?range=30d")

    assert page.status_code == 200 and "增长活动" in page.content.decode()
    assert "星河科技 VIP" in page.content.decode()
    body = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert csv.status_code == 200 and "星河科技 VIP" in body
