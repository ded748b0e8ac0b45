"""The points mall: rewards point at registered items; redeeming is exactly-once and never overdraws."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from members.memberships.selectors import active_membership, days_left
from members.models import Redemption, Reward
from members.points.mall import points_redeem
from members.points.selectors import points_balance
from members.points.services import points_award
from payments.models import Order
from tests.concurrency import run_together
from tests.factories import TierFactory, UserFactory
from tests.members.conftest import api_for
from tests.payments.catalog import TEST_ITEM, register_test_items


@pytest.fixture
def catalog():
    log, unregister = register_test_items()
    yield log
    unregister()


@pytest.fixture
def course_reward(catalog):
    return Reward.objects.create(
        title="精品课：私域增长", item_type=TEST_ITEM, item_id="A", points_price=500, stock=10
    )


def rich(user, points=1000):
    points_award(user=user, amount=points, reason="测试积分", idempotency_key=f"seed:{user.pk}:{points}")
    return user


def test_redeeming_spends_points_and_the_item_fulfils_itself(member, course_reward, catalog):
    rich(member)
    redemption = points_redeem(user=member, reward_id=course_reward.pk, idempotency_key="tap-1")
    assert points_balance(member) == 500
    assert redemption.order.status == Order.Status.PAID and redemption.order.amount_fen == 0
    assert redemption.order.channel == "points"
    assert catalog.fulfilled == [redemption.order.order_no]  # the item type's own fulfil ran
    course_reward.refresh_from_db()
    assert (course_reward.stock, course_reward.redeemed_count) == (9, 1)
    assert redemption.points_entry.amount == -500


def test_the_same_tap_twice_redeems_once(member, course_reward, catalog):
    rich(member)
    first = points_redeem(user=member, reward_id=course_reward.pk, idempotency_key="tap-1")
    again = points_redeem(user=member, reward_id=course_reward.pk, idempotency_key="tap-1")
    assert first.pk == again.pk
    assert points_balance(member) == 500 and len(catalog.fulfilled) == 1


def test_redeeming_more_points_than_held_is_refused_and_changes_nothing(member, course_reward, catalog):
    rich(member, 499)
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=member, reward_id=course_reward.pk, idempotency_key="tap-1")
    assert excinfo.value.code == "insufficient_points"
    assert points_balance(member) == 499
    assert not Order.objects.exists() and not Redemption.objects.exists() and catalog.fulfilled == []
    course_reward.refresh_from_db()
    assert course_reward.stock == 10


def test_a_failing_item_rolls_the_points_back(member, catalog):
    reward = Reward.objects.create(title="已下架课程", item_type=TEST_ITEM, item_id="OFF", points_price=100)
    rich(member)
    with pytest.raises(ApplicationError):
        points_redeem(user=member, reward_id=reward.pk, idempotency_key="tap-1")
    assert points_balance(member) == 1000


def test_stock_limit_and_shelf(member, other, catalog):
    reward = Reward.objects.create(title="限量", item_type=TEST_ITEM, item_id="A", points_price=10, stock=1)
    rich(member), rich(other)
    points_redeem(user=member, reward_id=reward.pk, idempotency_key="a")
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=other, reward_id=reward.pk, idempotency_key="b")
    assert excinfo.value.code == "out_of_stock"
    unlimited = Reward.objects.create(
        title="不限量", item_type=TEST_ITEM, item_id="A", points_price=10, per_member_limit=2
    )
    points_redeem(user=member, reward_id=unlimited.pk, idempotency_key="c")
    points_redeem(user=member, reward_id=unlimited.pk, idempotency_key="d")
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=member, reward_id=unlimited.pk, idempotency_key="e")
    assert excinfo.value.code == "redeem_limit_reached"
    unlimited.is_active = False
    unlimited.save()
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=other, reward_id=unlimited.pk, idempotency_key="f")
    assert excinfo.value.code == "reward_unavailable"
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=other, reward_id=999999, idempotency_key="g")
    assert excinfo.value.status_code == 404


@pytest.mark.parametrize("key", ["", "  ", "k" * 65])
def test_redeem_needs_a_sane_key(member, course_reward, key):
    rich(member)
    with pytest.raises(ApplicationError):
        points_redeem(user=member, reward_id=course_reward.pk, idempotency_key=key)


def test_membership_days_reward_extends_the_membership(member, vip):
    reward = Reward.objects.create(
        title="VIP 30 天", item_type="membership_days", item_id="VIP:30", points_price=300
    )
    rich(member)
    points_redeem(user=member, reward_id=reward.pk, idempotency_key="tap")
    membership = active_membership(member)
    assert membership.tier == vip and days_left(membership) == 30
    member.refresh_from_db()
    assert member.member_no == "VIP-000001"


def test_two_users_with_the_same_client_key_do_not_collide(member, other, course_reward):
    rich(member), rich(other)
    a = points_redeem(user=member, reward_id=course_reward.pk, idempotency_key="same-uuid")
    b = points_redeem(user=other, reward_id=course_reward.pk, idempotency_key="same-uuid")
    assert a.pk != b.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeems_never_overdraw_and_respect_stock():
    log, unregister = register_test_items()
    try:
        reward = Reward.objects.create(
            title="抢兑", item_type=TEST_ITEM, item_id="A", points_price=400, stock=3, per_member_limit=0
        )
        user = UserFactory()
        points_award(user=user, amount=1000, reason="seed", idempotency_key="seed")  # enough for 2

        def redeem(index) -> str:
            try:
                # taps 0-1 share a key (a double tap); the rest are distinct
                points_redeem(user=user, reward_id=reward.pk, idempotency_key=f"tap-{max(index, 1)}")
                return "ok"
            except ApplicationError as exc:
                return exc.code

        outcomes = run_together([lambda i=i: redeem(i) for i in range(6)])
        assert Redemption.objects.filter(user=user).count() == 2
        assert points_balance(user) == 200
        assert outcomes.count("insufficient_points") == 6 - outcomes.count("ok")
        reward.refresh_from_db()
        assert reward.stock == 1 and reward.redeemed_count == 2
        assert len(log.fulfilled) == 2
    finally:
        unregister()


# ---- API ---------------------------------------------------------------------------------------------------


def test_rewards_and_redeem_api(member, course_reward, django_assert_max_num_queries):
    for index in range(5):
        Reward.objects.create(
            title=f"奖品{index}", item_type=TEST_ITEM, item_id="A", points_price=100 + index
        )
    rich(member)
    client = api_for(member)
    with django_assert_max_num_queries(4):
        listing = client.get("/api/v1/points/rewards/")
    assert listing.status_code == 200 and listing.json()["count"] == 6
    response = client.post(
        f"/api/v1/points/rewards/{course_reward.pk}/redeem/", {"idempotency_key": "uuid-1"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["balance"] == 500 and response.json()["points"] == 500
    again = client.post(
        f"/api/v1/points/rewards/{course_reward.pk}/redeem/", {"idempotency_key": "uuid-1"}, format="json"
    )
    assert again.json()["id"] == response.json()["id"]
    mine = {r["id"]: r for r in client.get("/api/v1/points/rewards/").json()["results"]}
    assert mine[course_reward.pk]["redeemed_by_me"] == 1
    history = client.get("/api/v1/points/").json()
    assert history["balance"] == 500 and [e["amount"] for e in history["results"]] == [-500, 1000]


def test_redeem_api_errors(member, course_reward):
    client = api_for(member)
    assert (
        client.post(f"/api/v1/points/rewards/{course_reward.pk}/redeem/", {}, format="json").status_code
        == 400
    )
    response = client.post(
        f"/api/v1/points/rewards/{course_reward.pk}/redeem/", {"idempotency_key": "x"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "insufficient_points"
    assert (
        client.post(
            "/api/v1/points/rewards/424242/redeem/", {"idempotency_key": "x"}, format="json"
        ).status_code
        == 404
    )


def test_reward_with_an_unregistered_item_type_is_refused_at_redeem(member):
    TierFactory()
    reward = Reward.objects.create(title="坏奖品", item_type="nope", item_id="1", points_price=1)
    rich(member)
    with pytest.raises(ApplicationError) as excinfo:
        points_redeem(user=member, reward_id=reward.pk, idempotency_key="k")
    assert excinfo.value.code == "unknown_item_type"
    assert points_balance(member) == 1000
