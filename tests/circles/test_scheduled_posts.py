"""Scheduled posts (定时发布): invisible to everyone but their author in every read path until their
time; published by the sweep with each member notified once, however often the sweep runs; edited,
published at once or cancelled before then; only circle managers schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from circles.models import Circle, Post
from circles.services import scheduling
from members.models import Notification
from tests.circles import factories as f
from tests.circles.conftest import api_for, mini_program_user
from tests.factories import UserFactory

SECRET = "下周一的公告：新课上线"


def _schedule(circle, author, *, hours=2, **extra):
    response = api_for(author).post(
        f"/api/v1/circles/{circle.pk}/posts/",
        {
            "title": "公告",
            "body": SECRET,
            "publish_at": (timezone.now() + timedelta(hours=hours)).isoformat(),
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return Post.objects.get(pk=response.json()["id"]), response.json()


def _web(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def _published_notices(user) -> int:
    return Notification.objects.filter(user=user, kind="circle_post_published").count()


@pytest.mark.django_db
def test_a_scheduled_post_is_invisible_to_everyone_but_its_author_in_every_read_path(circle, member):
    co_admin = f.make_admin(circle=circle)
    post, created = _schedule(circle, circle.owner, pinned=True)
    assert (created["status"], post.status, post.is_pinned) == ("scheduled", "scheduled", True)
    assert created["publish_at"] == timezone.localtime(post.publish_at).isoformat()
    circle.refresh_from_db()
    assert circle.visible_post_count == 0  # counters never saw it

    for reader in (member, co_admin):
        api = api_for(reader)
        for url in (
            f"/api/v1/circles/{circle.pk}/posts/",
            f"/api/v1/circles/{circle.pk}/posts/?q=公告",
            f"/api/v1/circles/{circle.pk}/posts/?feed=featured",
            "/api/v1/circles/mine/",
        ):
            assert SECRET not in api.get(url).content.decode(), url
        assert api.get(f"/api/v1/circles/{circle.pk}/posts/").json()["count"] == 0
        for url in (
            f"/api/v1/circles/posts/{post.pk}/",
            f"/api/v1/circles/posts/{post.pk}/comments/",
        ):
            assert api.get(url).status_code == 404, url
        assert api.post(f"/api/v1/circles/posts/{post.pk}/like/").status_code == 404
        assert api.post(f"/api/v1/circles/posts/{post.pk}/comments/", {"body": "抢先"}).status_code == 404
        assert api.get(f"/api/v1/circles/{circle.pk}/posts/scheduled/").json()["count"] == 0
        web = _web(reader)
        assert SECRET not in web.get(f"/circles/{circle.pk}/").content.decode()
        assert SECRET not in web.get(f"/circles/{circle.pk}/?q=公告").content.decode()
        assert web.get(f"/circles/posts/{post.pk}/").status_code == 404
    preview = api_for(UserFactory()).get(f"/api/v1/circles/{circle.pk}/").content.decode()
    assert "公告" not in preview

    # the author sees it, marked 定时发布 with its time, on the post page, the circle page and the API
    owner_api = api_for(circle.owner)
    detail = owner_api.get(f"/api/v1/circles/posts/{post.pk}/").json()
    assert (detail["status"], detail["publish_at"]) == ("scheduled", created["publish_at"])
    mine = owner_api.get(f"/api/v1/circles/{circle.pk}/posts/scheduled/").json()
    assert [row["id"] for row in mine["results"]] == [post.pk]
    web = _web(circle.owner)
    page = web.get(f"/circles/posts/{post.pk}/").content.decode()
    when = timezone.localtime(post.publish_at).strftime("%Y-%m-%d %H:%M")
    assert "定时发布" in page and when in page and "取消定时发布" in page
    assert f'data-scheduled-post="{post.pk}"' in web.get(f"/circles/{circle.pk}/").content.decode()
    assert _published_notices(member) == 0


@pytest.mark.django_db
def test_the_sweep_publishes_once_and_notifies_each_member_once_even_run_twice(circle, member):
    other = f.make_member(circle=circle)
    expired = f.make_expired(circle=circle)
    before = api_for(member).post(
        f"/api/v1/circles/{circle.pk}/posts/", {"body": "早先的帖子"}, format="json"
    )
    post, _created = _schedule(circle, circle.owner, hours=1)
    later = timezone.now() + timedelta(hours=1, minutes=1)

    assert scheduling.posts_publish_due() == {"published": 0, "notified": 0}  # not yet
    first = scheduling.posts_publish_due(now=later)
    second = scheduling.posts_publish_due(now=later)
    assert first == {"published": 1, "notified": 2} and second == {"published": 0, "notified": 0}
    assert (_published_notices(member), _published_notices(other)) == (1, 1)
    assert _published_notices(expired) == 0 and _published_notices(circle.owner) == 0
    notice = Notification.objects.get(user=member, kind="circle_post_published")
    assert notice.url == f"/circles/posts/{post.pk}/" and "增长圈" in notice.title

    post.refresh_from_db()
    circle.refresh_from_db()
    assert post.status == "visible" and post.created_at == post.publish_at
    assert circle.visible_post_count == 2
    feed = api_for(member).get(f"/api/v1/circles/{circle.pk}/posts/").json()
    assert [row["id"] for row in feed["results"]] == [post.pk, before.json()["id"]]  # at its publish time
    assert api_for(member).get(f"/api/v1/circles/posts/{post.pk}/").status_code == 200
    assert SECRET in _web(member).get(f"/circles/{circle.pk}/").content.decode()


@pytest.mark.django_db
def test_editing_publishing_now_and_cancelling_before_the_time(circle, member):
    post, _created = _schedule(circle, circle.owner)
    owner_api = api_for(circle.owner)
    new_time = timezone.now() + timedelta(days=2)
    edited = owner_api.patch(
        f"/api/v1/circles/posts/{post.pk}/schedule/",
        {"publish_at": new_time.isoformat(), "body": "改过的公告"},
        format="json",
    )
    assert edited.status_code == 200
    post.refresh_from_db()
    assert (post.body, post.publish_at, post.status) == ("改过的公告", new_time, "scheduled")
    # a member cannot touch it
    assert (
        api_for(member).patch(f"/api/v1/circles/posts/{post.pk}/schedule/", {"body": "x"}).status_code == 404
    )
    past = owner_api.patch(
        f"/api/v1/circles/posts/{post.pk}/schedule/",
        {"publish_at": (timezone.now() - timedelta(minutes=1)).isoformat()},
        format="json",
    )
    assert (past.status_code, past.json()["code"]) == (400, "invalid")

    published = owner_api.post(f"/api/v1/circles/posts/{post.pk}/publish/")
    assert published.status_code == 200 and published.json()["status"] == "visible"
    assert _published_notices(member) == 1
    assert owner_api.patch(f"/api/v1/circles/posts/{post.pk}/schedule/", {"body": "再改"}).status_code == 404
    assert scheduling.posts_publish_due(now=new_time + timedelta(minutes=1))["published"] == 0
    assert _published_notices(member) == 1

    cancelled, _created = _schedule(circle, circle.owner, hours=3)
    assert owner_api.delete(f"/api/v1/circles/posts/{cancelled.pk}/").status_code == 204
    assert scheduling.posts_publish_due(now=timezone.now() + timedelta(hours=4)) == {
        "published": 0,
        "notified": 0,
    }
    cancelled.refresh_from_db()
    circle.refresh_from_db()
    assert cancelled.status == "deleted" and circle.visible_post_count == 1


@pytest.mark.django_db
def test_only_managers_schedule_and_a_bad_time_changes_nothing(circle, member):
    in_an_hour = (timezone.now() + timedelta(hours=1)).isoformat()
    url = f"/api/v1/circles/{circle.pk}/posts/"
    refused = api_for(member).post(url, {"body": "我也想定时", "publish_at": in_an_hour}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    pinned = api_for(member).post(url, {"body": "我也想置顶", "pinned": True}, format="json")
    assert pinned.status_code == 403
    owner = api_for(circle.owner)
    for when in (timezone.now() - timedelta(minutes=5), timezone.now() + timedelta(days=400)):
        bad = owner.post(url, {"body": "时间不对", "publish_at": when.isoformat()}, format="json")
        assert (bad.status_code, bad.json()["code"], list(bad.json()["fields"])) == (
            400,
            "invalid",
            ["publish_at"],
        )
    garbled = owner.post(url, {"body": "乱码时间", "publish_at": "next tuesday"}, format="json")
    assert garbled.status_code == 400
    assert Post.objects.count() == 0
    assert Circle.objects.get(pk=circle.pk).visible_post_count == 0


@pytest.mark.django_db
def test_a_scheduled_post_held_for_review_waits_for_approval_then_its_time(
    circle, member, settings, msg_check
):
    mini_program_user(circle.owner, settings)  # the content check asks WeChat for mini-program users
    msg_check.verdicts["敏感"] = "review"
    post, created = _schedule(circle, circle.owner, body="有点敏感的公告")
    assert created["status"] == "review" and post.publish_at is not None
    from circles.services import moderation

    moderation.post_moderate(post=post, actor=circle.owner, approve=True)
    post.refresh_from_db()
    assert post.status == "scheduled" and _published_notices(member) == 0

    late, _created = _schedule(circle, circle.owner, body="敏感而且审核晚了")
    Post.objects.filter(pk=late.pk).update(publish_at=timezone.now() - timedelta(minutes=10))
    late.refresh_from_db()
    moderation.post_moderate(post=late, actor=circle.owner, approve=True)
    late.refresh_from_db()
    assert late.status == "visible" and _published_notices(member) == 1


@pytest.mark.django_db
def test_the_web_compose_edit_and_publish_now_pages(circle, member):
    web = _web(circle.owner)
    compose = web.get(f"/circles/{circle.pk}/compose/").content.decode()
    assert 'type="datetime-local"' in compose and "置顶为公告" in compose
    assert 'name="publish_at"' not in _web(member).get(f"/circles/{circle.pk}/compose/").content.decode()
    when = timezone.localtime(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = web.post(
        f"/circles/{circle.pk}/compose/",
        {"body": SECRET, "publish_at": when.strftime("%Y-%m-%dT%H:%M"), "pinned": "1"},
    )
    post = Post.objects.get(body=SECRET)
    assert response.status_code == 302 and (post.status, post.publish_at, post.is_pinned) == (
        "scheduled",
        when,
        True,
    )

    edit_url = f"/circles/posts/{post.pk}/schedule/"
    assert _web(member).get(edit_url).status_code == 404
    moved = when + timedelta(hours=3)
    web.post(edit_url, {"action": "save", "body": "改期公告", "publish_at": moved.strftime("%Y-%m-%dT%H:%M")})
    post.refresh_from_db()
    assert (post.body, post.publish_at, post.status) == ("改期公告", moved, "scheduled")
    web.post(edit_url, {"action": "publish_now"})
    post.refresh_from_db()
    assert post.status == "visible" and _published_notices(member) == 1
    assert "改期公告" in _web(member).get(f"/circles/{circle.pk}/").content.decode()
