"""The feed costs a fixed number of queries (≤ 6; 2 for a paying member) whatever the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from circles.services import posts as post_services
from tests.circles import factories as f


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def fill(circle, authors, n, *, likers=()):
    for i in range(n):
        post = post_services.post_create(
            circle=circle,
            author=authors[i % len(authors)],
            kind="question" if i % 3 else "talk",
            body=f"帖子 {i}",
            tags=["标签", f"t{i}"],
        )
        post.images = [f"circles/posts/x{i}.png"]
        post.save(update_fields=["images"])
        for liker in likers:
            post_services.post_like(post=post, user=liker)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.django_db
@pytest.mark.parametrize("feed", ["newest", "featured", "unanswered"])
def test_feed_api_query_count_is_fixed(circle, feed):
    authors = [f.make_member(circle=circle) for _ in range(2)]
    reader = f.make_member(circle=circle)
    client = jwt_client(reader)
    url = f"/api/v1/circles/{circle.pk}/posts/?feed={feed}"
    fill(circle, authors, 2)
    small, _ = count_queries(client, url)
    # many more authors, likes (including mine) and images
    more_authors = [f.make_member(circle=circle) for _ in range(6)]
    fill(circle, more_authors, 40, likers=[reader, authors[0]])
    for post in circle.posts.all()[:10]:
        post_services.post_set_flags(post=post, actor=circle.owner, featured=True)
    big, response = count_queries(client, url)
    assert small == big
    # the JWT user, then ONE statement: circle + my membership + the page with authors and liked_by_me
    assert big == 2
    results = response.json()["results"]
    assert len(results) == (10 if feed == "featured" else 20)
    # what the one statement brings back is the real content: tags, image URLs, author, my likes
    first = results[0]
    assert first["tags"][0] == "标签" and first["tags"][1].startswith("t")
    assert first["images"][0].startswith("/media/circles/posts/x") and first["images"][0].endswith(".png")
    assert first["author"]["nickname"] and first["liked_by_me"] is True
    assert isinstance(first["is_pinned"], bool) and first["created_at"].endswith("+08:00")


@pytest.mark.django_db
def test_tier_member_feed_stays_within_six_queries(circle):
    reader = f.make_tier_member(circle=circle)
    authors = [f.make_member(circle=circle) for _ in range(3)]
    fill(circle, authors, 21, likers=[reader])
    n, response = count_queries(jwt_client(reader), f"/api/v1/circles/{circle.pk}/posts/")
    # the JWT user, circle + membership + page, the reader's tier ids (members.memberships.selectors.active_tier_ids,
    # 1 query today), the circle's inclusion of one of them: 4 — within the feed's budget of 6
    assert n <= 6
    body = response.json()
    assert body["count"] == 21 and body["next"].endswith(f"/api/v1/circles/{circle.pk}/posts/?page=2")
    assert body["previous"] is None
    assert all(p["liked_by_me"] for p in body["results"])


@pytest.mark.django_db
def test_feed_page_query_count_is_fixed(circle, client):
    authors = [f.make_member(circle=circle) for _ in range(2)]
    reader = f.make_member(circle=circle)
    client.force_login(reader)
    url = reverse("circles:detail", args=[circle.pk])
    fill(circle, authors, 1)
    client.get(url)
    small, _ = count_queries(client, url)
    fill(circle, [f.make_member(circle=circle) for _ in range(5)], 24, likers=[reader])
    big, _ = count_queries(client, url)
    assert small == big
    # session, user, circle + owner, my membership, the page of posts, guests, my paid purchases (renewal
    # price) — the 20 posts with authors and "liked by me" are ONE of them
    assert big <= 7
