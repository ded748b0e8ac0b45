"""我的圈子 (/circles/mine/): the circles a member owns, may read and whose membership ran out — decided
by `circle_access` for every row — with each circle's newest post; never another member's circles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from circles.models import CircleMembership, Post
from members.models import Membership
from tests.circles import factories as f
from tests.factories import UserFactory
from tests.payments.helpers import refund_order

pytestmark = pytest.mark.django_db

URL = "/circles/mine/"


def _circle(name: str, **options):
    circle = f.make_circle(**options)
    circle.name = name
    circle.save(update_fields=["name"])
    return circle


def _state_of(page: str, circle) -> str | None:
    """The data-circle-state of the circle's row on the page, or None when it is not listed."""
    marker = f'data-circle="{circle.pk}" data-circle-state="'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split('"', 1)[0]


def _row(page: str, circle) -> str:
    return page.split(f'data-circle="{circle.pk}"', 1)[1].split("</li>", 1)[0]


def test_a_member_sees_the_circles_they_own_read_and_ran_out_of(client):
    member = UserFactory(nickname="小林")
    paid = _circle("增长圈")
    f.make_member(circle=paid, user=member)
    author = f.make_member(circle=paid)
    Post.objects.create(circle=paid, author=author, title="本周复盘：私域转化", body="正文")
    older = Post.objects.create(circle=paid, author=author, title="旧帖", body="正文")
    Post.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=30))
    owned = _circle("小林的圈", owner=member)
    trial = _circle("试用圈")
    f.make_trial(circle=trial, user=member)
    tier_circle = _circle("会员圈")
    tier_circle.included_in_tiers.add(f.give_tier(user=member))
    lapsed = _circle("过期圈")
    f.make_expired(circle=lapsed, user=member)
    removed = _circle("移出圈")
    f.make_removed(circle=removed, user=member, refund=False)

    client.force_login(member)
    page = client.get(URL).content.decode()

    assert _state_of(page, owned) == "owned" and "圈主" in _row(page, owned)
    assert _state_of(page, paid) == "joined"
    paid_row = _row(page, paid)
    membership = CircleMembership.objects.get(circle=paid, user=member)
    assert f"有效期至 {timezone.localtime(membership.expires_at):%Y-%m-%d}" in paid_row
    assert "本周复盘：私域转化" in paid_row  # the newest post, not the older one
    assert "近 7 天 1 条新帖" in paid_row  # others' posts of the week; the 30-day-old one is not new
    assert f'href="/circles/{paid.pk}/"' in paid_row  # into the feed
    assert _state_of(page, trial) == "joined" and "试用" in _row(page, trial)
    assert _state_of(page, tier_circle) == "joined" and "会员等级包含" in _row(page, tier_circle)
    assert _state_of(page, lapsed) == "expired" and "续费" in _row(page, lapsed)
    assert _state_of(page, removed) is None


def test_a_refunded_circle_membership_is_not_shown_as_one_the_member_can_read(client):
    member = UserFactory()
    circle = _circle("退款圈")
    order = f.buy_circle(circle=circle, user=member)
    refund_order(order=order)
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert _state_of(page, circle) == "expired"  # listed only to renew, under 已到期的圈子
    joined = page.split('data-group="joined"', 1)[1].split("</section>", 1)[0]
    assert f'data-circle="{circle.pk}"' not in joined


def test_another_members_circles_never_show(client):
    other = UserFactory()
    theirs = _circle("别人的圈", owner=other)
    bought = _circle("别人买的圈")
    f.make_member(circle=bought, user=other)
    Post.objects.create(circle=bought, author=other, title="别人的帖子", body="正文")
    member = UserFactory()
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert _state_of(page, theirs) is None and _state_of(page, bought) is None
    assert "别人的帖子" not in page


def test_a_tier_that_ended_takes_its_circles_off_the_page(client):
    member = UserFactory()
    circle = _circle("会员圈")
    circle.included_in_tiers.add(f.give_tier(user=member))
    client.force_login(member)
    assert _state_of(client.get(URL).content.decode(), circle) == "joined"
    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    assert _state_of(client.get(URL).content.decode(), circle) is None


def test_a_member_without_circles_is_told_where_to_find_one(client):
    client.force_login(UserFactory())
    page = client.get(URL).content.decode()
    assert "data-empty" in page and "你还没有加入圈子" in page
    assert 'href="/circles/"' in page


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/login/?next=/circles/mine/"
    )


# ---- GET /api/v1/circles/mine/: the same groups for the mini-program ---------------------------------------

API_URL = "/api/v1/circles/mine/"


def _ids(rows) -> list[int]:
    return [row["id"] for row in rows]


def test_the_api_lists_the_same_three_groups_as_the_page():
    from tests.circles.conftest import api_for

    member = UserFactory(nickname="小林")
    paid = _circle("增长圈")
    f.make_member(circle=paid, user=member)
    author = f.make_member(circle=paid)
    newest = Post.objects.create(circle=paid, author=author, title="本周复盘：私域转化", body="正文")
    owned = _circle("小林的圈", owner=member)
    trial = _circle("试用圈")
    f.make_trial(circle=trial, user=member)
    lapsed = _circle("过期圈")
    f.make_expired(circle=lapsed, user=member)
    removed = _circle("移出圈")
    f.make_removed(circle=removed, user=member, refund=False)
    other = _circle("别人的圈")
    f.make_member(circle=other)

    response = api_for(member).get(API_URL)

    assert response.status_code == 200
    body = response.json()
    assert _ids(body["owned"]) == [owned.pk]
    assert set(_ids(body["joined"])) == {paid.pk, trial.pk}
    assert _ids(body["expired"]) == [lapsed.pk]
    row = next(r for r in body["joined"] if r["id"] == paid.pk)
    assert row["name"] == "增长圈" and row["access"]["can_read"] is True
    assert row["latest_post_id"] == newest.pk and row["latest_post_text"] == "本周复盘：私域转化"
    assert row["new_posts"] == 1 and row["access"]["expires_at"]
    assert body["expired"][0]["access"]["reason"] == "expired"
    assert body["owned"][0]["access"]["can_manage"] is True


def test_the_api_needs_a_login():
    from rest_framework.test import APIClient

    assert APIClient().get(API_URL).status_code == 401


def test_the_api_answers_in_a_fixed_number_of_statements():
    """The selector's 4 statements plus the request's own (user, tiers); growing the list adds none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.circles.conftest import api_for

    member = UserFactory()
    client = api_for(member)

    def add_circles():
        f.make_member(circle=_circle(f"圈{CircleMembership.objects.count()}"), user=member)
        f.make_expired(circle=_circle(f"过{CircleMembership.objects.count()}"), user=member)
        _circle(f"主{CircleMembership.objects.count()}", owner=member)

    add_circles()
    with CaptureQueriesContext(connection) as small:
        assert client.get(API_URL).status_code == 200
    for _ in range(3):
        add_circles()
    with CaptureQueriesContext(connection) as large:
        body = client.get(API_URL).json()
    assert (len(body["owned"]), len(body["joined"]), len(body["expired"])) == (4, 4, 4)
    assert len(large) == len(small), [q["sql"] for q in large]
    assert len(large) <= 6, [q["sql"] for q in large]
