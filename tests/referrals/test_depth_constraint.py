"""Depth > 2 is impossible: the database refuses it, whatever path the write takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from referrals.models import Commission, CommissionRule, ReferralBinding, ReferralSettings
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.referrals import factories as f

pytestmark = pytest.mark.django_db


def refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def paid_order(alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    return create_paid_order(user=bob, item_type=TEST_ITEM, item_id="A")


def test_a_third_level_commission_cannot_be_written(paid_order, alice, carol):
    base = {
        "order": paid_order,
        "beneficiary": carol,
        "buyer": paid_order.user,
        "item_type": TEST_ITEM,
        "base_fen": 9_900,
        "rate_bp": 100,
        "amount_fen": 99,
        "reward_kind": "cash",
        "status": "accrued",
        "hold_until": timezone.now() + timedelta(days=3),
    }
    refused(lambda: Commission.objects.create(level=3, idempotency_key="x:L3", **base))
    refused(lambda: Commission.objects.create(level=0, idempotency_key="x:L0", **base))
    refused(lambda: Commission.objects.bulk_create([Commission(level=3, idempotency_key="x:b3", **base)]))
    refused(lambda: Commission.objects.filter(order=paid_order).update(level=3))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Commission._meta.db_table} SET level = 3")
    assert list(Commission.objects.values_list("level", flat=True)) == [1]


def test_rules_and_settings_cannot_name_a_third_level():
    refused(lambda: CommissionRule.objects.create(item_type=TEST_ITEM, rate_bp=100, level=3))
    rule = f.rule(level=2)
    refused(lambda: CommissionRule.objects.filter(pk=rule.pk).update(level=3))
    ReferralSettings.current()
    refused(lambda: ReferralSettings.objects.update(commission_depth=3))
    refused(lambda: ReferralSettings.objects.update(commission_depth=0))


def test_other_guards_hold_in_the_database(paid_order, alice):
    commission = Commission.objects.get()
    # no commission to the buyer, no reversal above the amount, no second row per order and level
    refused(lambda: Commission.objects.filter(pk=commission.pk).update(beneficiary=paid_order.user))
    refused(
        lambda: Commission.objects.filter(pk=commission.pk).update(reversed_fen=commission.amount_fen + 1)
    )
    refused(lambda: CommissionRule.objects.create(item_type=TEST_ITEM, rate_bp=10_001))
    # a binding never points at oneself, and a user has one open binding
    user = UserFactory()
    refused(
        lambda: ReferralBinding.objects.create(
            user=user, referrer=user, source="signup", protected_until=timezone.now()
        )
    )
    refused(
        lambda: ReferralBinding.objects.create(
            user=paid_order.user, referrer=UserFactory(), source="signup", protected_until=timezone.now()
        )
    )
