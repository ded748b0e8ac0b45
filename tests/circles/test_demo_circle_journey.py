"""On the demo data, through the pages a new user clicks (the browser version lives in
tests/journeys/test_community_journeys.py): on the demo data, a member joins the demo circle, accepts
the rules, posts; another member tips the post; the author sees the held earning in the wallet; a
non-member sees only the preview."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from circles.models import Circle, Post, TipIntent
from payments.wallet import ledger
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order

POST_TITLE = "我的第一篇干货"
POST_BODY = "私域运营的三个关键：信任、节奏、复盘。"


@pytest.mark.django_db
def test_join_accept_rules_post_get_tipped_and_see_the_held_earning(client):
    call_command("seed_demo", stdout=io.StringIO())
    circle = Circle.objects.get(name="知圈创作者圈")
    detail_url = reverse("circles:detail", args=[circle.pk])

    # a new user sees the demo circle's join box with its price, and a preview without content
    author = UserFactory(nickname="新会员")
    client.force_login(author)
    page = client.get(detail_url).content.decode()
    assert "¥199" in page and "加入圈子" in page
    assert "欢迎加入知圈创作者圈" in page  # a preview title
    assert "先读公约，再做个自我介绍吧" not in page  # never a body

    # they pay (sandbox, through the real payment path) and are a member
    checkout = re.search(r'href="([^"]*checkout[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "item_type=circle" in checkout and client.get(checkout).status_code == 200
    create_paid_order(user=author, item_type="circle", item_id=str(circle.pk))

    # composing first asks for the rules; they tick "agree" and post
    compose_url = reverse("circles:compose", args=[circle.pk])
    to_rules = client.get(compose_url)
    assert to_rules.status_code == 302 and reverse("circles:rules", args=[circle.pk]) in to_rules["Location"]
    rules_page = client.get(to_rules["Location"]).content.decode()
    assert "友善交流" in rules_page
    client.post(
        reverse("circles:rules", args=[circle.pk]),
        {"version": str(circle.rules_version), "agree": "1", "next": compose_url},
    )
    posted = client.post(compose_url, {"kind": "talk", "title": POST_TITLE, "body": POST_BODY})
    post = Post.objects.get(author=author, title=POST_TITLE)
    assert posted.status_code == 302 and post.status == "visible"
    assert POST_BODY in client.get(detail_url).content.decode()

    # another member tips the post ¥5 from the tip page, through the ordinary checkout
    fan = UserFactory(nickname="铁粉")
    create_paid_order(user=fan, item_type="circle", item_id=str(circle.pk))
    client.force_login(fan)
    to_checkout = client.post(reverse("circles:tip", args=[post.pk]), {"custom_yuan": "5"})
    intent = TipIntent.objects.get(tipper=fan)
    assert to_checkout["Location"].endswith(f"item_type=tip&item_id={intent.pk}")
    create_paid_order(user=fan, item_type="tip", item_id=str(intent.pk))

    # the author sees ¥4.50 held (the platform keeps its 10%) in the wallet, marked as a circle tip
    assert ledger.balances(author).pending_fen == 450
    client.force_login(author)
    wallet = client.get(reverse("payments:wallet")).content.decode()
    assert re.search(r'data-testid="pending">\s*¥4\.50', wallet)
    assert "圈子打赏" in wallet

    # a non-member still sees only the preview: no body, no post page, no feed
    outsider = UserFactory()
    client.force_login(outsider)
    page = client.get(detail_url).content.decode()
    assert POST_TITLE in page and POST_BODY not in page and "加入圈子" in page
    assert client.get(reverse("circles:post", args=[post.pk])).status_code == 404
    from tests.circles.conftest import api_for

    assert api_for(outsider).get(f"/api/v1/circles/{circle.pk}/posts/").status_code == 403
