"""Every circles list API answers the paginated shape {count, next, previous, results} (next/previous
are URLs, as `core.api.Pagination` gives) and refuses a page that does not exist with 404."""

import pytest
from django.utils import timezone

from circles.models import CircleMembership, Post
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import posts as post_services
from circles.services import questions as question_services
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.factories import UserFactory

PAGE_KEYS = {"count", "next", "previous", "results"}


@pytest.mark.django_db
def test_the_feed_pages_by_20_with_next_and_previous_urls(circle):
    author = f.make_member(circle=circle)
    now = timezone.now()
    Post.objects.bulk_create(
        [
            Post(circle=circle, author=author, body=f"帖子{i}", created_at=now, updated_at=now)
            for i in range(45)
        ]
    )
    circle.visible_post_count = 45
    circle.save(update_fields=["visible_post_count"])
    client = api_for(author)
    url = f"/api/v1/circles/{circle.pk}/posts/"
    first = client.get(url + "?feed=newest").json()
    assert set(first) == PAGE_KEYS and first["count"] == 45 and len(first["results"]) == 20
    assert first["previous"] is None and first["next"].endswith(f"{url}?feed=newest&page=2")
    second = client.get(first["next"]).json()
    assert second["previous"].endswith(f"{url}?feed=newest") and second["next"].endswith("page=3")
    third = client.get(second["next"]).json()
    assert len(third["results"]) == 5 and third["next"] is None and third["previous"].endswith("page=2")
    seen = [p["id"] for page in (first, second, third) for p in page["results"]]
    assert len(set(seen)) == 45  # no post twice, none missing
    for bad in ("4", "0", "abc"):
        response = client.get(f"{url}?page={bad}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_circle_list_is_paginated(owner):
    for _ in range(3):
        f.make_circle(owner=owner)
    body = api_for(UserFactory()).get("/api/v1/circles/?page_size=2").json()
    assert set(body) == PAGE_KEYS and body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert api_for(UserFactory()).get("/api/v1/circles/?page=9").status_code == 404


@pytest.mark.django_db
def test_leaderboard_members_and_my_questions_are_paginated(circle):
    guest = f.make_guest(circle=circle)
    members = [f.make_member(circle=circle) for _ in range(3)]
    for user in members:
        post_services.post_create(circle=circle, author=user, body="打卡")
    owner = api_for(circle.owner)

    board = owner.get(f"/api/v1/circles/{circle.pk}/leaderboard/?period=all&page_size=2").json()
    assert set(board) == PAGE_KEYS and board["count"] == 3 and [r["rank"] for r in board["results"]] == [1, 2]

    roster = owner.get(f"/api/v1/circles/{circle.pk}/members/").json()
    assert set(roster) == PAGE_KEYS and roster["count"] == 5
    # owner first, then guests, then members
    assert [m["role"] for m in roster["results"]][:2] == ["owner", "guest"]
    membership_services.circle_leave(circle=circle, user=members[0])
    left = owner.get(f"/api/v1/circles/{circle.pk}/members/?status=left").json()
    assert [m["user"]["id"] for m in left["results"]] == [members[0].pk]

    circle_services.circle_rules_accept(circle=circle, user=members[1])
    asked = question_services.paid_question_create(circle=circle, asker=members[1], guest=guest, body="请教")
    mine = api_for(members[1]).get("/api/v1/circles/questions/?role=asked").json()
    assert set(mine) == PAGE_KEYS and [q["id"] for q in mine["results"]] == [asked.pk]
    assert mine["results"][0]["checkout_url"]
    # an unpaid question is not on the guest's list yet
    assert api_for(guest).get("/api/v1/circles/questions/?role=to_answer").json()["count"] == 0
    assert CircleMembership.objects.filter(circle=circle).count() == 5
