"""Member pages: tiers and purchase, my account, onboarding checklist, profile, points and mall."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import roles
from members.models import Onboarding, Redemption, Reward
from members.notifications.services import notification_send
from members.points.selectors import points_balance
from members.points.services import points_award
from tests.factories import UserFactory
from tests.members.helpers import age, buy
from tests.payments.catalog import TEST_ITEM, register_test_items

INTRO = "大家好，我是张三，在杭州做教育培训十年，希望在这里认识更多同行朋友，一起成长。"


@pytest.fixture
def logged_in(client, member):
    client.force_login(member)
    return client


def test_home_keeps_showing_the_tiers(client, vip, ka):
    page = client.get("/").content.decode()
    assert "¥3,600" in page and "¥120,000" in page
    assert 'href="/membership/VIP/"' in page


def test_tier_comparison_for_a_visitor_and_for_a_vip(client, member, vip, ka):
    page = client.get("/membership/").content.decode()
    assert "VIP会员" in page and "KA大客户" in page and "立即开通" in page
    buy(member, "VIP")
    age(member, 100)
    client.force_login(member)
    page = client.get("/membership/").content.decode()
    credit = 360_000 * 265 // 365
    assert "续费 ¥3,600" in page
    assert f"升级 ¥{(12_000_000 - credit) // 100:,}.{(12_000_000 - credit) % 100:02d}" in page


def test_tier_page_shows_the_upgrade_credit_line_and_links_to_checkout(logged_in, member, vip, ka):
    buy(member, "VIP")
    page = logged_in.get("/membership/KA/").content.decode()
    assert "升级为KA大客户（365天）" in page
    assert "原VIP会员剩余 365 天折抵" in page
    assert "/payments/checkout/?item_type=membership&amp;item_id=KA" in page


def test_tier_page_refuses_a_lower_tier_clearly(logged_in, member, vip, ka):
    buy(member, "KA")
    page = logged_in.get("/membership/VIP/").content.decode()
    assert "无需购买较低等级" in page and "去支付" not in page


def test_checkout_page_shows_the_credit_line(logged_in, member, vip, ka):
    buy(member, "VIP")
    page = logged_in.get("/payments/checkout/?item_type=membership&item_id=KA").content.decode()
    assert "原VIP会员剩余 365 天折抵" in page


def test_unknown_tier_page_is_404(client, vip):
    assert client.get("/membership/NOPE/").status_code == 404


def test_account_shows_tier_number_days_left_and_offers(logged_in, member, vip, ka):
    assert "您还不是会员" in logged_in.get("/account/").content.decode()
    buy(member, "VIP")
    page = logged_in.get("/account/").content.decode()
    assert "VIP-000001" in page and "剩余 365 天" in page
    assert "升级为KA大客户" in page
    assert "续费VIP会员" not in page  # a year ahead: no renewal offer yet (only in the last 30 days)
    assert "分配专属顾问" in page  # the onboarding checklist


def test_account_shows_an_expired_membership_with_renewal(logged_in, member, vip):
    buy(member, "VIP")
    age(member, 400)
    page = logged_in.get("/account/").content.decode()
    assert "已于" in page and "开通VIP会员 ¥3,600" in page


def test_account_needs_login(client, db):
    response = client.get("/account/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_onboarding_page_walks_the_four_steps(logged_in, member, vip):
    for role, name in ((roles.SALES, "销售"), (roles.CUSTOMER_SERVICE, "客服")):
        rep = UserFactory(nickname=name, is_staff=True)
        rep.groups.add(Group.objects.get_or_create(name=role)[0])
    assert logged_in.get("/account/onboarding/").status_code == 302  # not a member yet
    buy(member, "VIP")
    page = logged_in.get("/account/onboarding/").content.decode()
    assert "顾问正在为您建群" in page
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buffer, format="PNG")
    group = Onboarding.objects.get(user=member).service_group
    group.qr_image.save("qr.png", SimpleUploadedFile("qr.png", buffer.getvalue()), save=True)
    page = logged_in.get("/account/onboarding/").content.decode()
    assert group.qr_image.url in page
    response = logged_in.post("/account/onboarding/service_group/confirm/", follow=True)
    assert "已记录" in response.content.decode()
    response = logged_in.post("/account/onboarding/big_group/confirm/", follow=True)
    assert "请先提交自我介绍" in response.content.decode()


def test_profile_form_saves_the_intro_and_the_house_nickname(logged_in, member, vip):
    buy(member, "VIP")
    response = logged_in.post(
        "/account/profile/",
        {
            "real_name": "张三",
            "city": "杭州",
            "industry": "教育",
            "self_introduction": INTRO,
            "use_house_nickname": "on",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.nickname == "VIP-000001-张三-杭州-教育"
    assert Onboarding.objects.get(user=member).intro_submitted_at is not None
    page = logged_in.get("/account/profile/").content.decode()
    assert "VIP-000001-张三-杭州-教育" in page and INTRO in page


def test_profile_form_shows_errors(logged_in, member):
    response = logged_in.post(
        "/account/profile/",
        {"real_name": "张三", "city": "杭州", "industry": "教育", "self_introduction": "太短"},
    )
    assert response.status_code == 200
    assert "自我介绍至少 20 个字" in response.content.decode()


def test_points_and_mall_pages(logged_in, member, django_assert_max_num_queries):
    log, unregister = register_test_items()
    try:
        for index in range(25):
            points_award(user=member, amount=10, reason=f"打卡 {index}", idempotency_key=f"c{index}")
        rewards = [
            Reward.objects.create(title=f"奖品 {i}", item_type=TEST_ITEM, item_id="A", points_price=100)
            for i in range(5)
        ]
        with django_assert_max_num_queries(8):
            page = logged_in.get("/account/points/")
        assert "250" in page.content.decode() and "打卡 24" in page.content.decode()
        with django_assert_max_num_queries(8):
            mall = logged_in.get("/points/mall/").content.decode()
        assert "奖品 4" in mall and "立即兑换" in mall
        key = "tap-abc"
        response = logged_in.post(
            f"/points/mall/{rewards[0].pk}/redeem/", {"idempotency_key": key}, follow=True
        )
        assert "兑换成功" in response.content.decode()
        logged_in.post(f"/points/mall/{rewards[0].pk}/redeem/", {"idempotency_key": key})  # double submit
        assert Redemption.objects.filter(user=member).count() == 1
        assert points_balance(member) == 150
        response = logged_in.post(
            f"/points/mall/{rewards[1].pk}/redeem/", {"idempotency_key": "t2"}, follow=True
        )
        response = logged_in.post(
            f"/points/mall/{rewards[2].pk}/redeem/", {"idempotency_key": "t3"}, follow=True
        )
        assert "积分不足" in response.content.decode()
    finally:
        unregister()


def test_a_redeem_without_its_key_gets_the_form_error_and_spends_nothing(logged_in, member):
    _log, unregister = register_test_items()
    try:
        points_award(user=member, amount=100, reason="打卡", idempotency_key="seed")
        reward = Reward.objects.create(title="奖品", item_type=TEST_ITEM, item_id="A", points_price=10)
        for data in ({}, {"idempotency_key": "x" * 65}):
            response = logged_in.post(f"/points/mall/{reward.pk}/redeem/", data, follow=True)
            assert "缺少兑换编号" in response.content.decode()
        assert points_balance(member) == 100 and not Redemption.objects.exists()
    finally:
        unregister()


def test_notifications_page_has_a_fixed_query_count(logged_in, member, django_assert_max_num_queries):
    for index in range(30):
        notification_send(user=member, kind="system", title=f"通知 {index}")
    with django_assert_max_num_queries(8):
        response = logged_in.get("/account/notifications/")
    assert response.status_code == 200 and "通知 29" in response.content.decode()
