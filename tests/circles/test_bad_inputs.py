"""Crafted or mistyped input on circle pages and the API gets a page or a clear refusal, never a 500,
and a posted `next` never sends the member to another site."""

import pytest
from django.urls import reverse

from circles.models import Post, TipIntent
from circles.services import circles as circle_services
from circles.services import owner_tools
from circles.services import posts as post_services
from tests.circles import factories as f
from tests.circles.conftest import api_for

HUGE_PAGE = "99999999999999999999"  # past PostgreSQL's bigint OFFSET


@pytest.mark.django_db
def test_accepting_the_rules_never_redirects_to_another_site(circle, client):
    # given a member who has not accepted the rules, following a link that carries a foreign `next`
    user = f.make_member(circle=circle, accept_rules=False)
    client.force_login(user)
    url = reverse("circles:rules", args=[circle.pk])
    # when they agree
    response = client.post(url, {"version": "1", "agree": "1", "next": "https://evil.example/phish"})
    # then they land on the compose page of this site, not on the foreign one
    assert response.status_code == 302
    assert response["Location"] == reverse("circles:compose", args=[circle.pk])
    # and a `next` on this site is still honoured
    circle_services.circle_rules_publish(circle=circle, body="v2 公约", actor=circle.owner)
    own = client.post(url, {"version": "2", "agree": "1", "next": f"/circles/{circle.pk}/"})
    assert own["Location"] == f"/circles/{circle.pk}/"
    # a `next` that is not a path (a view name, a cut-off link) falls back instead of failing
    circle_services.circle_rules_publish(circle=circle, body="v3 公约", actor=circle.owner)
    mangled = client.post(url, {"version": "3", "agree": "1", "next": "payments:wallet"})
    assert mangled["Location"] == reverse("circles:compose", args=[circle.pk])


@pytest.mark.django_db
def test_liking_never_redirects_to_another_site(circle, client):
    user = f.make_member(circle=circle)
    post = post_services.post_create(circle=circle, author=circle.owner, body="欢迎")
    client.force_login(user)
    response = client.post(reverse("circles:like", args=[post.pk]), {"next": "//evil.example/"})
    assert response["Location"] == reverse("circles:post", args=[post.pk])
    post.refresh_from_db()
    assert post.like_count == 1
    # the second press unlikes; a `next` that is not a path falls back to the post
    again = client.post(reverse("circles:like", args=[post.pk]), {"next": "abc"})
    assert again["Location"] == reverse("circles:post", args=[post.pk])
    post.refresh_from_db()
    assert post.like_count == 0


@pytest.mark.django_db
def test_a_page_number_past_any_circle_is_a_clear_refusal(circle, client):
    # Numbers of more than nine digits are refused at the door (core.middleware query guard, issue 16).
    user = f.make_member(circle=circle)
    post_services.post_create(circle=circle, author=user, body="第一帖")
    client.force_login(user)
    page = client.get(f"/circles/{circle.pk}/?page={HUGE_PAGE}")
    assert page.status_code == 400 and "第一帖" not in page.content.decode()
    for query in (f"page={HUGE_PAGE}", f"page={HUGE_PAGE}&q=帖"):
        response = api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/?{query}")
        assert response.status_code in (400, 404), query
    assert api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/?page=99999").status_code == 404


@pytest.mark.django_db
def test_a_nul_character_in_search_or_tag_is_refused_and_changes_nothing(circle, client):
    # Control characters in a query string are refused at the door (400), pages and API alike.
    user = f.make_member(circle=circle)
    post_services.post_create(circle=circle, author=user, body="增长方法", tags=["增长"])
    client.force_login(user)
    for query in ("q=%00", "tag=%00", "q=%E5%A2%9E%00", "feed=featured&q=%00"):
        assert client.get(f"/circles/{circle.pk}/?{query}").status_code == 400, query
        response = api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/?{query}")
        assert response.status_code == 400, query
    found = api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/?q=%E5%A2%9E").json()
    assert [p["body"] for p in found["results"]] == ["增长方法"]


@pytest.mark.django_db
def test_text_with_a_nul_character_is_published_without_it(circle, client):
    user = f.make_member(circle=circle)
    client.force_login(user)
    client.post(reverse("circles:compose", args=[circle.pk]), {"body": "你\x00好", "tags": "a\x00b"})
    post = Post.objects.get(author=user)
    assert post.body == "你好" and post.tags == ["ab"]
    response = client.post(reverse("circles:comment", args=[post.pk]), {"body": "评\x00论"})
    assert response.status_code == 302
    assert post.comments.get().body == "评论"


@pytest.mark.django_db
def test_asking_with_a_guest_that_is_not_a_number_shows_the_form_again(circle, client):
    user = f.make_member(circle=circle)
    client.force_login(user)
    response = client.post(reverse("circles:ask", args=[circle.pk]), {"guest": "1 or 1=1", "body": "问题"})
    assert response.status_code == 200
    assert "请选择嘉宾" in response.content.decode()


@pytest.mark.django_db
def test_owner_tools_answer_a_malformed_id_with_404(circle, client):
    client.force_login(circle.owner)
    url = reverse("circles:manage", args=[circle.pk])
    for action in ("approve_post", "reject_comment", "remove"):
        assert client.post(url, {"action": action, "id": "abc"}).status_code == 404, action


@pytest.mark.django_db
def test_an_owner_removing_a_member_with_a_nul_in_the_reason_still_removes_them(circle):
    user = f.make_member(circle=circle)
    membership = circle.memberships.get(user=user)
    removed = owner_tools.circle_member_remove(
        circle=circle, membership=membership, actor=circle.owner, refund=False, reason="刷\x00屏"
    )
    assert removed.status == "removed"
    assert membership.events.get(kind="removed").details["reason"] == "刷屏"


@pytest.mark.django_db
def test_a_tip_amount_that_is_no_number_is_refused_and_creates_nothing(circle, client):
    user = f.make_member(circle=circle)
    post = post_services.post_create(circle=circle, author=circle.owner, body="值得打赏")
    client.force_login(user)
    for amount in ("abc", "Infinity", "sNaN", "1.001"):
        response = client.post(reverse("circles:tip", args=[post.pk]), {"custom_yuan": amount})
        assert response.status_code == 200, amount
        assert "请输入正确的金额" in response.content.decode(), amount
    assert not TipIntent.objects.exists()


@pytest.mark.django_db
def test_owner_tools_refuse_an_unknown_action_or_a_huge_id_and_change_nothing(circle, client):
    user = f.make_member(circle=circle)
    membership = circle.memberships.get(user=user)
    client.force_login(circle.owner)
    url = reverse("circles:manage", args=[circle.pk])
    # an id past any bigint names no row
    huge = client.post(url, {"action": "remove", "id": "99999999999999999999"})
    assert huge.status_code == 404
    # an action the page does not offer is refused with a message, not done
    unknown = client.post(url, {"action": "drop_table", "id": str(membership.pk)}, follow=True)
    assert unknown.status_code == 200
    assert "已完成" not in [str(m) for m in unknown.context["messages"]]
    membership.refresh_from_db()
    assert membership.status == "active"


@pytest.mark.django_db
def test_a_post_flag_the_page_does_not_offer_changes_nothing(circle, client):
    post = post_services.post_create(circle=circle, author=circle.owner, body="置顶候选")
    client.force_login(circle.owner)
    response = client.post(reverse("circles:flags", args=[post.pk]), {"flag": "is_pinned", "value": "1"})
    assert response["Location"] == reverse("circles:post", args=[post.pk])
    post.refresh_from_db()
    assert not post.is_pinned and post.status == "visible"
