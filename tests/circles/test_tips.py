"""Tips (打赏): amount through a TipIntent and an ordinary order; the author's share is held in the ledger,
settles like commissions, and a refund voids it (held) or claws it back (settled)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from circles.models import CircleSettings, Post, TipIntent
from circles.services import comments as comment_services
from circles.services import posts as post_services
from payments.models import Earning
from payments.wallet import ledger, settlement
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.payments.helpers import create_paid_order, refund_order


@pytest.fixture
def tipped_post(circle):
    author = f.make_member(circle=circle)
    return post_services.post_create(circle=circle, author=author, title="干货", body="私域运营三板斧")


def tip(user, post, amount_fen):
    response = api_for(user).post(
        "/api/v1/circles/tips/", {"post_id": post.pk, "amount_fen": amount_fen}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["item_type"] == "tip"
    assert f"item_type=tip&item_id={body['item_id']}" in body["checkout_url"]
    return create_paid_order(user=user, item_type="tip", item_id=body["item_id"]), body


@pytest.mark.django_db
def test_tip_is_held_then_settled_then_clawed_back_on_refund(circle, tipped_post):
    # given a member tips the author ¥10 with a 10% platform fee
    fan = f.make_member(circle=circle)
    author = tipped_post.author
    order, body = tip(fan, tipped_post, 1_000)
    assert order.amount_fen == 1_000
    assert body["author_share_fen"] == 900 and body["platform_fee_fen"] == 100
    # then the author's share is held (pending) in their wallet
    earning = Earning.objects.get(user=author, source="tip")
    assert earning.amount_fen == 900 and earning.order_id == order.pk
    assert ledger.balances(author).pending_fen == 900
    assert ledger.balances(author).available_fen == 0
    post = Post.objects.get(pk=tipped_post.pk)
    assert post.tip_count == 1 and post.tip_total_fen == 1_000
    # when settlement runs after the refund window
    settlement.settle_due(now=timezone.now() + timedelta(days=30))
    assert ledger.balances(author).pending_fen == 0
    assert ledger.balances(author).available_fen == 900
    # when the tip is refunded after settlement
    refund_order(order=order)
    earning.refresh_from_db()
    balances = ledger.balances(author)
    assert earning.reversed_fen == 900
    assert balances.available_fen + balances.receivable_fen == 0  # clawed back
    assert TipIntent.objects.get(order_no=order.order_no).status == "refunded"
    assert Post.objects.get(pk=tipped_post.pk).tip_count == 0


@pytest.mark.django_db
def test_refund_while_held_voids_the_share(circle, tipped_post):
    fan = f.make_member(circle=circle)
    order, _body = tip(fan, tipped_post, 5_000)
    assert ledger.balances(tipped_post.author).pending_fen == 4_500
    refund_order(order=order)
    assert ledger.balances(tipped_post.author).pending_fen == 0
    settlement.settle_due(now=timezone.now() + timedelta(days=30))
    assert ledger.balances(tipped_post.author).available_fen == 0


@pytest.mark.django_db
def test_platform_fee_is_floored_for_the_author_and_the_remainder_stays_with_the_platform(
    circle, tipped_post
):
    conf = CircleSettings.current()
    conf.tip_platform_fee_bp = 333
    conf.save()
    fan = f.make_member(circle=circle)
    order, body = tip(fan, tipped_post, 101)
    assert body["author_share_fen"] == 101 * 9667 // 10000 == 97
    assert body["platform_fee_fen"] == 4
    assert Earning.objects.get(order=order).amount_fen == 97


@pytest.mark.django_db
def test_tip_amount_limits_and_self_tips(circle, tipped_post):
    fan = f.make_member(circle=circle)
    client = api_for(fan)
    for amount in (99, 50_001):
        r = client.post(
            "/api/v1/circles/tips/", {"post_id": tipped_post.pk, "amount_fen": amount}, format="json"
        )
        assert r.status_code == 400 and r.json()["code"] == "tip_amount_out_of_range"
    own = api_for(tipped_post.author).post(
        "/api/v1/circles/tips/", {"post_id": tipped_post.pk, "amount_fen": 500}, format="json"
    )
    assert own.json()["code"] == "tip_self"
    outsider = api_for(f.UserFactory()).post(
        "/api/v1/circles/tips/", {"post_id": tipped_post.pk, "amount_fen": 500}, format="json"
    )
    assert outsider.status_code == 404


@pytest.mark.django_db
def test_the_tip_page_turns_a_custom_amount_into_a_checkout(circle, tipped_post, client):
    fan = f.make_member(circle=circle)
    client.force_login(fan)
    page = client.get(reverse("circles:tip", args=[tipped_post.pk]))
    assert "¥5" in page.content.decode() or "5" in page.content.decode()
    response = client.post(
        reverse("circles:tip", args=[tipped_post.pk]), {"custom_yuan": "8.88", "preset_yuan": "5"}
    )
    intent = TipIntent.objects.get(tipper=fan)
    assert intent.amount_fen == 888
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:checkout") + f"?item_type=tip&item_id={intent.pk}"
    checkout = client.get(response["Location"])
    assert checkout.status_code == 200 and "8.88" in checkout.content.decode()


@pytest.mark.django_db
def test_tipping_a_comment_pays_the_commenter(circle, tipped_post):
    commenter, fan = f.make_member(circle=circle), f.make_member(circle=circle)
    comment = comment_services.comment_create(post=tipped_post, author=commenter, body="补充一点")
    response = api_for(fan).post(
        "/api/v1/circles/tips/", {"comment_id": comment.pk, "amount_fen": 200}, format="json"
    )
    order = create_paid_order(user=fan, item_type="tip", item_id=response.json()["item_id"])
    assert Earning.objects.get(order=order).user == commenter
    comment.refresh_from_db()
    assert comment.tip_count == 1 and comment.tip_total_fen == 200


@pytest.mark.django_db
def test_a_paid_tip_intent_cannot_be_bought_again(circle, tipped_post):
    fan = f.make_member(circle=circle)
    _order, body = tip(fan, tipped_post, 300)
    again = api_for(fan).post(
        "/api/v1/orders/",
        {"item_type": "tip", "item_id": body["item_id"], "channel": "sandbox"},
        format="json",
    )
    assert again.status_code == 400
    assert Earning.objects.filter(user=tipped_post.author).count() == 1


@pytest.mark.django_db
def test_the_author_is_told_in_site_and_by_subscribe_message(circle, tipped_post, settings, subscribe_wechat):
    # given the author uses the mini-program and allowed one "tip received" message
    from core.models import WeChatIdentity
    from members.models import Notification, SubscribeTemplate
    from members.notifications.opt_ins import subscribe_optin_record
    from tests.circles.conftest import mini_program_user

    author = mini_program_user(tipped_post.author, settings)
    openid = WeChatIdentity.objects.get(user=author).openid
    SubscribeTemplate.objects.create(
        key="circle_tip",
        name="打赏到账",
        template_id="tmpl-tip",
        fields="thing1,thing2",
        page="pages/wallet/index",
    )
    subscribe_wechat.template("tmpl-tip", ["thing1", "thing2"])
    subscribe_wechat.accept(openid, "tmpl-tip")
    subscribe_optin_record(user=author, template_key="circle_tip")
    # when a fan tips ¥20 with a message
    fan = f.make_member(circle=circle)
    response = api_for(fan).post(
        "/api/v1/circles/tips/",
        {"post_id": tipped_post.pk, "amount_fen": 2_000, "message": "受益匪浅"},
        format="json",
    )
    create_paid_order(user=fan, item_type="tip", item_id=response.json()["item_id"])
    # then the author has the in-site notification and one subscribe message went to WeChat
    note = Notification.objects.get(user=author, kind="circle_tip")
    assert "¥20" in note.title and "受益匪浅" in note.body and "¥18" in note.body
    assert note.push_status == "sent"
    assert len(subscribe_wechat.sent) == 1 and subscribe_wechat.sent[0]["touser"] == openid
