"""Property tests for the upgrade price: credit is the floor of value × unused / days, never more
than what was paid or than the new price, and never grows as time passes."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.memberships.upgrades import MembershipOffer, upgrade_credit
from members.models import Membership, MembershipGrant, MembershipTier
from tests.factories import UserFactory


# Each example runs in its own savepoint that is rolled back, so the shared `db` fixture is safe.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=st.integers(min_value=1, max_value=50_000_000),
    duration=st.integers(min_value=1, max_value=1000),
    elapsed=st.integers(min_value=0, max_value=1100),
    target=st.integers(min_value=1, max_value=50_000_000),
)
def test_credit_is_floor_pro_rata_and_bounded(db, price, duration, elapsed, target):
    with transaction.atomic():
        tier = MembershipTier.objects.create(
            code="P", name="P", price_fen=price, duration_days=duration, rank=1, member_no_prefix="P"
        )
        higher = MembershipTier.objects.create(
            code="Q", name="Q", price_fen=target, duration_days=365, rank=2, member_no_prefix="Q"
        )
        user = UserFactory()
        start = timezone.now() - timedelta(days=elapsed)
        membership = Membership.objects.create(
            user=user, tier=tier, starts_at=start, ends_at=start + timedelta(days=duration)
        )
        MembershipGrant.objects.create(
            membership=membership,
            user=user,
            kind="start",
            tier=tier,
            starts_after=start,
            ends_after=membership.ends_at,
            days=duration,
            value_fen=price,
        )
        credit, unused = upgrade_credit(membership)
        assert 0 <= unused <= duration
        assert credit == price * unused // duration
        assert 0 <= credit <= price
        later, _ = upgrade_credit(membership, now=timezone.now() + timedelta(days=1))
        assert later <= credit
        offer = MembershipOffer(
            tier=higher, kind="upgrade", current=membership, credit_fen=credit, unused_days=unused
        )
        assert offer.amount_fen + offer.credit_fen == target
        assert 0 <= offer.amount_fen <= target
        transaction.set_rollback(True)
