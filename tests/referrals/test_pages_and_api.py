"""Referral center pages and API: API.md row 9 exactly, fixed query counts, posters, agreement."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from core.models import Brand
from members.auth.services import user_signed_up
from referrals import group_buys, posters
from referrals.models import AgreementAcceptance
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.referrals import factories as f
from tests.referrals.conftest import api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_alice(alice):
    """Alice with 8 invited people, 6 of whom bought; a commission each."""
    f.rule(rate_bp=1000)
    for index in range(8):
        friend = UserFactory()
        user_signed_up(user=friend, referral_code=alice.referral_code, source="web")
        if index < 6:
            create_paid_order(user=friend, item_type=TEST_ITEM, item_id="A")
    return alice


def test_referrals_me_has_exactly_the_fields_of_api_md_row_9(busy_alice):
    response = api_for(busy_alice).get("/api/v1/referrals/me/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "share_url", "invited_count", "earnings"}
    assert set(body["earnings"]) == {"pending_fen", "available_fen", "withdrawn_fen"}
    assert body["code"] == busy_alice.referral_code
    assert body["share_url"] == f"https://zq.example.com/r/{busy_alice.referral_code}/"
    assert body["invited_count"] == 8
    assert body["earnings"] == {"pending_fen": 6 * 990, "available_fen": 0, "withdrawn_fen": 0}


def test_referrals_me_requires_login(client):
    response = client.get("/api/v1/referrals/me/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_list_apis_have_a_fixed_query_count(busy_alice, django_assert_max_num_queries):
    api = api_for(busy_alice)
    for path in (
        "/api/v1/referrals/invited/",
        "/api/v1/referrals/commissions/",
        "/api/v1/referrals/leaderboard/",
        "/api/v1/referrals/links/",
        "/api/v1/referrals/earnings/",
        "/api/v1/referrals/group-buys/mine/",
    ):
        with django_assert_max_num_queries(8):
            response = api.get(path)
        assert response.status_code == 200, (path, response.content)
    invited = api.get("/api/v1/referrals/invited/").json()
    assert invited["count"] == 8 and sum(row["has_paid"] for row in invited["results"]) == 6
    assert all(row["name"].endswith("**") for row in invited["results"])
    commissions = api.get("/api/v1/referrals/commissions/").json()
    assert commissions["count"] == 6
    assert (
        commissions["results"][0]["ledger_status"] == "held"
        and commissions["results"][0]["amount_fen"] == 990
    )
    board = api.get("/api/v1/referrals/leaderboard/").json()
    assert board[0] == {"rank": 1, "name": "A**", "amount_fen": 5940, "orders": 6, "is_me": True}


def test_pages_render_with_a_fixed_query_count(client, busy_alice, django_assert_max_num_queries):
    client.force_login(busy_alice)
    for name, limit in (("/referrals/", 30), ("/referrals/invited/", 12), ("/referrals/commissions/", 14)):
        with django_assert_max_num_queries(limit):
            response = client.get(name)
        assert response.status_code == 200, name
    page = client.get("/referrals/").content.decode()
    assert busy_alice.referral_code in page and "推广中心" in page
    assert f"/r/{busy_alice.referral_code}/" in page


def test_center_requires_login(client):
    response = client.get("/referrals/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_poster_is_a_png_for_the_community_and_for_any_item(client, alice):
    client.force_login(alice)
    for query in ("", f"?item_type={TEST_ITEM}&item_id=A"):
        response = client.get(f"/referrals/poster.png{query}")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert Image.open(BytesIO(response.content)).size == (750, 1200)
    assert client.get(f"/referrals/poster.png?item_type={TEST_ITEM}&item_id=OFF").status_code == 404
    api = api_for(alice).get(f"/api/v1/referrals/poster/?item_type={TEST_ITEM}&item_id=A")
    assert api.status_code == 200 and api["Content-Type"] == "image/png"


def test_agreement_page_records_acceptance_of_the_current_version(client, alice):
    v1 = f.agreement(1, body="第一条 仅按真实成交分佣。")
    client.force_login(alice)
    page = client.get("/referrals/agreement/")
    assert "仅按真实成交分佣" in page.content.decode()
    f.agreement(2)
    stale = client.post("/referrals/agreement/", {"version": v1.version})
    assert stale.status_code == 200 and not AgreementAcceptance.objects.exists()
    response = client.post("/referrals/agreement/", {"version": 2}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    acceptance = AgreementAcceptance.objects.get()
    assert acceptance.agreement.version == 2 and acceptance.ip == "10.1.2.3"


def test_agreement_api(alice):
    f.agreement(3)
    api = api_for(alice)
    assert api.get("/api/v1/referrals/agreement/").json()["accepted"] is False
    outdated = api.post("/api/v1/referrals/agreement/accept/", {"version": 2}, format="json")
    assert outdated.status_code == 409 and outdated.json()["code"] == "agreement_outdated"
    accepted = api.post("/api/v1/referrals/agreement/accept/", {"version": 3}, format="json")
    assert accepted.status_code == 201
    assert api.get("/api/v1/referrals/agreement/").json()["accepted"] is True


def test_links_api_counts_per_channel(client, alice):
    client.get(f"/r/{alice.referral_code}/?c=poster")
    client.get(f"/r/{alice.referral_code}/?c=moments")
    body = api_for(alice).get("/api/v1/referrals/links/").json()
    assert body["links"]["poster"].endswith(f"/r/{alice.referral_code}/?c=poster")
    assert body["miniprogram_path"].endswith(f"ref={alice.referral_code}")
    assert {(s["channel"], s["visits"]) for s in body["stats"]} == {("poster", 1), ("moments", 1)}


def test_group_buy_pages_open_join_and_show_progress(client, test_items):
    offer = f.offer(size=2, price_fen=5_000)
    initiator, friend = UserFactory(), UserFactory()
    assert "三人拼团" in client.get("/referrals/group-buys/").content.decode()
    client.force_login(initiator)
    opened = client.post(f"/referrals/group-buys/offers/{offer.pk}/open/")
    assert opened.status_code == 302 and "item_type=group_buy" in opened["Location"]
    seat = initiator.group_buy_seats.get()
    create_paid_order(user=initiator, item_type="group_buy", item_id=str(seat.pk))
    detail = client.get(f"/referrals/group-buys/{seat.group_id}/").content.decode()
    assert "js-countdown" in detail and f"ref={initiator.referral_code}" in detail
    client.force_login(friend)
    joined = client.post(f"/referrals/group-buys/{seat.group_id}/join/")
    assert joined.status_code == 302 and "item_type=group_buy" in joined["Location"]
    friend_seat = friend.group_buy_seats.get()
    create_paid_order(user=friend, item_type="group_buy", item_id=str(friend_seat.pk))
    done = client.get(f"/referrals/group-buys/{seat.group_id}/").content.decode()
    assert "拼团成功" in done
    # a latecomer sees a clear refusal
    client.force_login(UserFactory())
    late = client.post(f"/referrals/group-buys/{seat.group_id}/join/", follow=True)
    assert "拼成" in late.content.decode()


def test_expired_group_page_says_so(client):
    offer = f.offer(size=3)
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    from referrals.models import GroupBuy

    GroupBuy.objects.filter(pk=seat.group_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(UserFactory())
    page = client.get(f"/referrals/group-buys/{seat.group_id}/").content.decode()
    assert "已结束" in page
    refused = client.post(f"/referrals/group-buys/{seat.group_id}/join/", follow=True).content.decode()
    assert "过期" in refused


def test_navigation_has_the_referral_center(client):
    assert '<a href="/referrals/">推广中心</a>' in client.get("/").content.decode()


def test_openapi_schema_documents_the_referral_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/referrals/me/",
        "/api/v1/referrals/commissions/",
        "/api/v1/referrals/group-buys/{group_id}/join/",
    ):
        assert path in schema["paths"], path


def test_group_poster_is_laid_out_in_the_brand_and_says_what_the_group_needs(monkeypatch):
    Brand(site_name="晨读社", short_name="晨读", tagline="每天一小时", primary_color="#3355cc").save()
    written = []
    original_text = ImageDraw.ImageDraw.text

    def spy(self, xy, text, *args, **kwargs):
        written.append(text)
        return original_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    seat = group_buys.group_buy_open(user=UserFactory(nickname="张三"), offer=f.offer(size=3))
    create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    seat.group.refresh_from_db()
    image = Image.open(BytesIO(posters.group_poster_png(user=seat.user, group=seat.group))).convert("RGB")
    assert image.getpixel((5, 5)) == (0x33, 0x55, 0xCC) == image.getpixel((5, 1195))
    assert "晨读社" in written and "张三 邀你一起拼团" in written and "三人拼团" in written
    assert any("还差 2 人" in text for text in written) and "未成团全额退款" in written
    assert not any("知圈" in text for text in written)


def test_a_paid_group_seat_lands_on_its_group_to_invite_the_others(client):
    seat = group_buys.group_buy_open(user=UserFactory(), offer=f.offer(size=3))
    order = create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    client.force_login(seat.user)
    response = client.get(f"/payments/orders/{order.order_no}/?from=pay")
    assert response.status_code == 302 and response["Location"] == f"/referrals/group-buys/{seat.group_id}/"


def test_group_poster_invites_into_the_group(client):
    offer = f.offer(size=3)
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    client.force_login(seat.user)
    response = client.get(f"/referrals/poster.png?group_id={seat.group_id}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "group_id=" in client.get(f"/referrals/group-buys/{seat.group_id}/").content.decode()
    assert client.get("/referrals/poster.png?group_id=999999").status_code == 404


def test_the_center_names_what_a_promoter_price_is_for_not_its_item_type_code(client):
    from referrals.models import Promoter, PromoterPrice

    kol = f.level("kol", 2, name="KOL")
    member = UserFactory()
    Promoter.objects.create(user=member, level=kol)
    PromoterPrice.objects.create(
        level=kol,
        item_type="membership",
        item_id="VIP",
        price_fen=300_000,
        applies_to=PromoterPrice.AppliesTo.SELF,
    )
    client.force_login(member)
    page = client.get("/referrals/").content.decode()
    assert "KOL推广价" in page and "会员 · VIP" in page
    assert "membership ·" not in page and ">membership<" not in page  # the code itself (not a link path)
