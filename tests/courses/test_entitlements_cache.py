"""A member's cached entitlements (courses/cache.py, `courses.member_facts.entitlements`): every change of a
membership or an enrolment is visible on the next read, a membership's end is honoured without any write,
and an order's price never rests on the cache. Members announces its changes explicitly
(`members.cache_versions`): no receiver of courses listens to members' models."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework.test import APIClient

from courses.catalog import services as catalog_services
from members.cache_versions import member_bump, shown_facts_bump
from members.models import Membership, MembershipTier, User
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def reader(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def unlocked_in_catalog(client, course) -> bool:
    rows = {row["id"]: row for row in client.get("/api/v1/courses/?page_size=100").json()["results"]}
    return rows[course.pk]["unlocked"]


def course_access(client, course) -> dict:
    body = client.get(f"/api/v1/courses/{course.pk}/").json()
    return {**body["access"], "locked": [lesson["locked"] for lesson in body["lessons"]]}


@pytest.fixture
def vip(db):
    return f.vip_tier()


@pytest.fixture
def tier_course(vip):
    return f.make_course(title="会员课", tiers=[vip], lessons=2, previews=0)


@pytest.fixture
def sold_course(db):
    return f.make_course(title="单卖课", tiers=[], lessons=2, previews=0)


def test_a_purchase_and_its_refund_show_at_once_in_catalog_and_course_page(sold_course):
    member = UserFactory()
    client = reader(member)
    assert not unlocked_in_catalog(client, sold_course)  # warm: locked facts cached
    assert course_access(client, sold_course)["reason"] == "buy"

    order = f.buy(member, "course", sold_course.pk)
    assert unlocked_in_catalog(client, sold_course)
    assert course_access(client, sold_course) == {
        "unlocked": True,
        "via": "purchase",
        "reason": "",
        "message": "",
        "locked": [False, False],
    }

    f.refund(order)
    assert not unlocked_in_catalog(client, sold_course)
    assert course_access(client, sold_course)["locked"] == [True, True]


def test_joining_changing_and_losing_a_tier_show_at_once(vip, tier_course):
    member = UserFactory()
    client = reader(member)
    assert course_access(client, tier_course)["reason"] == "buy"  # sold on its own as well

    membership = f.give_tier(member, vip)  # announced: the member's version moves
    assert unlocked_in_catalog(client, tier_course)
    assert course_access(client, tier_course)["via"] == "tier"

    membership.ends_at = timezone.now() - timedelta(days=1)  # ended, and announced as members' services do
    membership.save()
    member_bump(member.pk)
    assert not unlocked_in_catalog(client, tier_course)
    assert course_access(client, tier_course)["reason"] == "membership_expired"

    membership.delete()
    member_bump(member.pk)
    assert course_access(client, tier_course)["reason"] == "buy"  # sold on its own as well


def test_a_tier_losing_a_course_or_its_rank_shows_at_once(vip, tier_course):
    member = UserFactory()
    f.give_tier(member, vip)
    client = reader(member)
    assert unlocked_in_catalog(client, tier_course)

    ka = f.ka_tier()
    tier_course.included_in_tiers.set([ka])
    assert not unlocked_in_catalog(client, tier_course)

    vip.rank = 3  # now ranks above KA: includes what KA includes
    vip.save()
    shown_facts_bump()  # what the tier editor does after saving
    assert unlocked_in_catalog(client, tier_course)
    assert course_access(client, tier_course)["via"] == "tier"


def test_a_membership_ends_on_time_without_any_write(vip, tier_course):
    member = UserFactory()
    ends_at = timezone.now() + timedelta(hours=1)
    Membership.objects.create(user=member, tier=vip, starts_at=ends_at - timedelta(days=365), ends_at=ends_at)
    client = reader(member)
    assert unlocked_in_catalog(client, tier_course)  # cached while it holds

    with mock.patch("django.utils.timezone.now", return_value=ends_at + timedelta(seconds=1)):
        assert not unlocked_in_catalog(client, tier_course)
        assert course_access(client, tier_course)["reason"] == "membership_expired"


def test_a_membership_starting_later_opens_on_time(vip, tier_course):
    member = UserFactory()
    starts_at = timezone.now() + timedelta(hours=1)
    Membership.objects.create(
        user=member, tier=vip, starts_at=starts_at, ends_at=starts_at + timedelta(days=365)
    )
    client = reader(member)
    assert not unlocked_in_catalog(client, tier_course)

    with mock.patch("django.utils.timezone.now", return_value=starts_at + timedelta(seconds=1)):
        assert unlocked_in_catalog(client, tier_course)


def test_a_queryset_update_is_seen_once_announced(vip, tier_course):
    member = UserFactory()
    f.give_tier(member, vip)
    client = reader(member)
    assert unlocked_in_catalog(client, tier_course)

    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    assert unlocked_in_catalog(client, tier_course)  # no signal: the cache cannot know …
    member_bump(member.pk)  # … until the code that updates in bulk says so
    assert not unlocked_in_catalog(client, tier_course)


def test_entitlements_are_per_member(vip, tier_course):
    holder, other = UserFactory(), UserFactory()
    f.give_tier(holder, vip)
    assert unlocked_in_catalog(reader(holder), tier_course)
    assert not unlocked_in_catalog(reader(other), tier_course)
    assert course_access(reader(other), tier_course)["reason"] == "buy"  # sold on its own as well


def test_an_order_price_reads_the_membership_not_the_cache(vip, sold_course):
    member = UserFactory()
    f.give_tier(member, vip)
    client = reader(member)
    assert client.get(f"/api/v1/courses/{sold_course.pk}/").json()["price"]["amount_fen"] == 19_900 - 1_990

    # The membership ends in the database without a signal; the cached facts still say VIP …
    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    assert client.get(f"/api/v1/courses/{sold_course.pk}/").json()["price"]["amount_fen"] == 17_910
    # … but what an order would charge is decided on the database: no member discount any more.
    assert catalog_services.course_quote(user=member, course_id=sold_course.pk).amount_fen == 19_900


# ---- members invalidates explicitly, without signal receivers ----------------------------------------------


def courses_receivers(signal, sender) -> list:
    sync, async_ = signal._live_receivers(sender)
    return [receiver for receiver in [*sync, *async_] if receiver.__module__.startswith("courses")]


def test_courses_listens_to_no_model_of_members():
    for model in (Membership, MembershipTier, User):
        assert courses_receivers(post_save, model) == []
        assert courses_receivers(post_delete, model) == []


@contextmanager
def membership_signals_muted():
    """Saves and deletes of a Membership send nothing: what still invalidates is the explicit call."""
    sends = {signal: signal.send for signal in (post_save, post_delete)}

    def muted(signal):
        def send(sender, **kwargs):
            return [] if sender is Membership else sends[signal](sender, **kwargs)

        return send

    with (
        mock.patch.object(post_save, "send", muted(post_save)),
        mock.patch.object(post_delete, "send", muted(post_delete)),
    ):
        yield


def test_a_grant_a_refund_and_an_expiry_each_invalidate_without_a_signal(vip, tier_course):
    member = UserFactory()
    client = reader(member)
    with membership_signals_muted():
        assert course_access(client, tier_course)["reason"] == "buy"  # warm: no membership cached

        order = f.buy(member, "membership", "VIP")  # the grant (members.memberships.grants)
        assert unlocked_in_catalog(client, tier_course)
        assert course_access(client, tier_course)["via"] == "tier"

        f.refund(order)  # the refund revokes the grant
        assert not unlocked_in_catalog(client, tier_course)
        assert course_access(client, tier_course)["reason"] in ("buy", "membership_expired")

        f.buy(member, "membership", "VIP")
        assert unlocked_in_catalog(client, tier_course)
        ends_at = Membership.objects.get(user=member).ends_at
        with mock.patch("django.utils.timezone.now", return_value=ends_at + timedelta(seconds=1)):
            assert not unlocked_in_catalog(client, tier_course)  # expired: no write at all
            assert course_access(client, tier_course)["reason"] == "membership_expired"
