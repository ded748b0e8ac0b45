"""Who may read and post in a circle — every (state × capability) cell, on pages AND the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from circles.models import Post
from circles.services import posts as post_services
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.factories import UserFactory

SECRET = "只有成员能看到的秘密内容"

STATES = {
    # state: (can read, can post)
    "non_member": (False, False),
    "trial": (True, True),
    "member": (True, True),
    "expired": (False, False),
    "removed": (False, False),
    "tier_included": (True, True),
    "guest": (True, True),
    "admin": (True, True),
    "owner": (True, True),
}


def user_in_state(state: str, circle):
    if state == "non_member":
        return UserFactory()
    if state == "trial":
        return f.make_trial(circle=circle)
    if state == "member":
        return f.make_member(circle=circle)
    if state == "expired":
        return f.make_expired(circle=circle)
    if state == "removed":
        return f.make_removed(circle=circle)
    if state == "tier_included":
        return f.make_tier_member(circle=circle)
    if state == "guest":
        return f.make_guest(circle=circle)
    if state == "admin":
        return f.make_admin(circle=circle)
    if state == "owner":
        return circle.owner
    raise AssertionError(state)


@pytest.fixture
def secret_post(circle):
    author = f.make_member(circle=circle)
    return post_services.post_create(circle=circle, author=author, title="内部复盘", body=SECRET)


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
def test_reading_on_pages(state, circle, secret_post, client):
    # given a user in `state`
    user = user_in_state(state, circle)
    client.force_login(user)
    can_read = STATES[state][0]
    # when they open the circle page and the post page
    page = client.get(reverse("circles:detail", args=[circle.pk]))
    post_page = client.get(reverse("circles:post", args=[secret_post.pk]))
    # then members see the content; everyone else sees the join box / a 404, never the content
    assert page.status_code == 200
    assert (SECRET in page.content.decode()) is can_read
    if can_read:
        assert post_page.status_code == 200 and SECRET in post_page.content.decode()
    else:
        assert post_page.status_code == 404
        assert "内部复盘" in page.content.decode()  # the preview shows titles only


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
def test_reading_through_the_api(state, circle, secret_post):
    user = user_in_state(state, circle)
    client = api_for(user)
    can_read = STATES[state][0]
    feed = client.get(f"/api/v1/circles/{circle.pk}/posts/")
    detail = client.get(f"/api/v1/circles/posts/{secret_post.pk}/")
    page = client.get(f"/api/v1/circles/{circle.pk}/")
    assert page.status_code == 200
    assert page.json()["access"]["can_read"] is can_read
    if can_read:
        assert feed.status_code == 200
        assert [p["body"] for p in feed.json()["results"]] == [SECRET]
        assert detail.status_code == 200 and detail.json()["body"] == SECRET
        assert page.json()["preview"] == []
    else:
        assert feed.status_code == 403 and feed.json()["code"] == "not_entitled"
        assert detail.status_code == 404
        assert SECRET not in str(page.json())
        assert page.json()["preview"][0]["title"] == "内部复盘"


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
def test_posting_on_pages(state, circle, client):
    user = user_in_state(state, circle)
    client.force_login(user)
    can_post = STATES[state][1]
    response = client.post(
        reverse("circles:compose", args=[circle.pk]), {"kind": "talk", "body": f"{state} 的分享"}
    )
    created = Post.objects.filter(circle=circle, author=user, body=f"{state} 的分享").first()
    if can_post:
        assert created is not None
        assert response.status_code == 302 and response["Location"] == reverse(
            "circles:post", args=[created.pk]
        )
    else:
        assert created is None
        assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
def test_posting_through_the_api(state, circle):
    user = user_in_state(state, circle)
    response = api_for(user).post(
        f"/api/v1/circles/{circle.pk}/posts/", {"kind": "talk", "body": f"{state} 的分享"}, format="json"
    )
    if STATES[state][1]:
        assert response.status_code == 201, response.json()
        assert response.json()["body"] == f"{state} 的分享"
        assert response.json()["author"]["id"] == user.pk
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "not_entitled"
        assert not Post.objects.filter(author=user).exists()


@pytest.mark.django_db
def test_anonymous_visitors_see_the_preview_and_join_button_only(circle, secret_post, client, api):
    page = client.get(reverse("circles:detail", args=[circle.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET not in html and "内部复盘" in html and "登录后加入" in html
    assert api.get(f"/api/v1/circles/{circle.pk}/posts/").status_code in (401, 403)
    assert api.get(f"/api/v1/circles/{circle.pk}/").json()["access"]["reason"] == "login"


@pytest.mark.django_db
def test_a_removed_member_stays_out_even_when_their_tier_includes_the_circle(circle):
    user = f.make_removed(circle=circle, refund=False)
    circle.included_in_tiers.add(f.give_tier(user=user))
    response = api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/")
    assert response.status_code == 403
    assert api_for(user).get(f"/api/v1/circles/{circle.pk}/").json()["access"]["reason"] == "removed"
