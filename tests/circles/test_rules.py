"""Accepting the current rules (社群公约) is required before the first post and again after a change."""

import pytest
from django.urls import reverse

from circles.models import Post, RulesAcceptance
from circles.services import circles as circle_services
from tests.circles import factories as f
from tests.circles.conftest import api_for


@pytest.mark.django_db
def test_a_new_member_must_accept_the_rules_before_the_first_post(circle, client):
    # given a member who has paid but not yet accepted the rules
    user = f.make_member(circle=circle, accept_rules=False)
    client.force_login(user)
    # when they open the compose page, they are sent to the rules
    response = client.get(reverse("circles:compose", args=[circle.pk]))
    assert response.status_code == 302 and reverse("circles:rules", args=[circle.pk]) in response["Location"]
    # and the API refuses the post with a clear code
    refused = api_for(user).post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "你好"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "rules_not_accepted"
    # when they accept v1 on the rules page
    rules_page = client.get(reverse("circles:rules", args=[circle.pk]))
    assert "友善交流" in rules_page.content.decode()
    client.post(reverse("circles:rules", args=[circle.pk]), {"version": "1", "agree": "1"})
    # then they can post
    ok = api_for(user).post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "你好"}, format="json")
    assert ok.status_code == 201
    assert RulesAcceptance.objects.filter(circle=circle, user=user, version=1).exists()


@pytest.mark.django_db
def test_a_new_rules_version_requires_accepting_again(circle):
    user = f.make_member(circle=circle)
    client = api_for(user)
    assert (
        client.post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "第一帖"}, format="json").status_code
        == 201
    )
    # when the owner publishes v2
    circle_services.circle_rules_publish(
        circle=circle, body="1. 友善交流\n2. 不发广告\n3. 新增：禁止刷屏", actor=circle.owner
    )
    # then posting and commenting are refused until v2 is accepted
    refused = client.post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "第二帖"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "rules_not_accepted"
    post = Post.objects.get(body="第一帖")
    comment = client.post(f"/api/v1/circles/posts/{post.pk}/comments/", {"body": "评论"}, format="json")
    assert comment.json()["code"] == "rules_not_accepted"
    # reading still works, and the page says the rules changed
    detail = client.get(f"/api/v1/circles/{circle.pk}/").json()
    assert detail["access"]["can_read"] is True and detail["access"]["rules_pending"] is True
    assert detail["rules_version"] == 2 and "禁止刷屏" in detail["rules"]
    # accepting an outdated version is refused
    stale = client.post(f"/api/v1/circles/{circle.pk}/rules/accept/", {"version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "rules_changed"
    accepted = client.post(f"/api/v1/circles/{circle.pk}/rules/accept/", {"version": 2}, format="json")
    assert accepted.status_code == 200 and accepted.json()["can_post"] is True
    assert (
        client.post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "第二帖"}, format="json").status_code
        == 201
    )
    assert list(
        RulesAcceptance.objects.filter(user=user).values_list("version", flat=True).order_by("version")
    ) == [1, 2]


@pytest.mark.django_db
def test_the_owner_never_needs_to_accept_their_own_rules(circle):
    circle_services.circle_rules_publish(circle=circle, body="v2 公约", actor=circle.owner)
    response = api_for(circle.owner).post(
        f"/api/v1/circles/{circle.pk}/posts/", {"body": "公告"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_the_rules_page_requires_ticking_agree(circle, client):
    user = f.make_member(circle=circle, accept_rules=False)
    client.force_login(user)
    client.post(reverse("circles:rules", args=[circle.pk]), {"version": "1"})
    assert not RulesAcceptance.objects.filter(user=user).exists()
