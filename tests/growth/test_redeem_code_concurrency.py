"""The same redeem code sent by 20 members at once makes exactly one order (real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from growth.models import RedeemCode
from growth.redeem_codes import services
from payments.models import Order
from tests.concurrency import run_together
from tests.courses.factories import vip_tier
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_code_sent_by_twenty_members_at_once_makes_one_order():
    vip_tier()
    batch = services.batch_create(
        name="并发批次",
        item_type="membership",
        item_id="VIP",
        size=1,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=UserFactory(is_staff=True),
    )
    code = batch.codes.get().code
    members = [UserFactory() for _i in range(20)]
    results = run_together([lambda m=m: services.code_redeem(user=m, raw_code=code) for m in members])
    won = [r for r in results if isinstance(r, RedeemCode)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(refused) == 19, results
    assert {r.code for r in refused} == {"redeem_code_invalid"}
    assert Order.objects.filter(channel="redeem_code").count() == 1
    row = RedeemCode.objects.get(code=code)
    assert row.order.user == row.redeemed_by == won[0].redeemed_by


def test_one_member_sending_two_codes_of_a_batch_at_once_gets_one():
    vip_tier()
    batch = services.batch_create(
        name="一人两码",
        item_type="membership_days",
        item_id="VIP:7",
        size=2,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=UserFactory(is_staff=True),
    )
    member = UserFactory()
    first, second = batch.codes.values_list("code", flat=True)
    results = run_together(
        [lambda c=c: services.code_redeem(user=member, raw_code=c) for c in (first, second)]
    )
    assert sum(isinstance(r, RedeemCode) for r in results) == 1, results
    assert RedeemCode.objects.filter(redeemed_by=member).count() == 1
    assert Order.objects.filter(user=member).count() == 1
