"""Camps, circles and referrals as members use them, on a phone and on a desktop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.journeys.test_member_journeys import pay_with_sandbox, sign_up_by_phone

pytestmark = pytest.mark.django_db(transaction=True)


def make_vip(user) -> None:
    from tests.payments.helpers import create_paid_order

    create_paid_order(user=user, item_type="membership", item_id="VIP")


def test_vip_member_joins_the_camp_and_checks_in_today(page: Page, site, login_as):
    from members.models import User

    member = User.objects.get(username="member")
    make_vip(member)
    login_as(page.context, member)

    page.goto(f"{site.url}/courses/camps/")
    page.locator("a[href*='/courses/camps/']").filter(has_text="21天写作打卡营").first.click()
    if page.locator(".join-button").count():
        page.locator(".join-button").click()
    expect(page.locator(".term-head")).to_contain_text("连续打卡")
    task = page.locator(".today-task")
    expect(task).to_be_visible()
    task.locator("textarea[name=text]").fill("今天写了 300 字，先写再改，收获很大。")
    task.get_by_role("button", name="打卡").click()
    expect(page.locator(".today-task")).to_contain_text("今日已打卡")
    expect(page.locator(".term-head .stats")).to_contain_text("1")


def test_member_joins_circle_accepts_rules_posts_and_a_fan_tips_the_post(
    browser: Browser, browser_context_args, page: Page, site, login_as
):
    from circles.models import Circle

    circle = Circle.objects.get(name="知圈创作者圈")
    sign_up_by_phone(page, site.url, "13700001111")
    page.goto(f"{site.url}/circles/{circle.pk}/")
    # a non-member sees the preview and the join button, never the content
    expect(page.locator(".join-box")).to_contain_text("¥199")
    expect(page.locator(".post")).to_have_count(0)
    page.locator(".join-box").get_by_role("link", name="加入圈子").click()
    expect(page.locator(".checkout .total")).to_contain_text("¥199")
    page.locator("input[name=channel][value=sandbox]").check()
    page.locator(".pay-form button[type=submit]").click()
    page.get_by_role("button", name="确认支付").click()
    expect(page.locator("main")).to_contain_text("支付成功")  # on what was bought, or the order

    # accept the rules, then post
    page.goto(f"{site.url}/circles/{circle.pk}/compose/")
    if page.locator("input[name=agree]").count():
        page.locator("input[name=agree]").check()
        page.get_by_role("button", name="同意并继续").click()
        page.goto(f"{site.url}/circles/{circle.pk}/compose/")
    page.locator("input[name=title]").fill("我的第一篇干货")
    page.locator("textarea[name=body]").fill("私域运营的三个关键：信任、节奏、复盘。")
    page.locator("form.compose button[type=submit], form button[type=submit]").last.click()
    expect(page.locator("body")).to_contain_text("我的第一篇干货")

    # another member tips the post ¥5 through the sandbox
    from members.models import User

    fan = User.objects.get(username="member")
    from tests.payments.helpers import create_paid_order

    create_paid_order(user=fan, item_type="membership", item_id="KA")  # KA includes the circle
    fan_context = browser.new_context(**browser_context_args)
    login_as(fan_context, fan)
    fan_page = fan_context.new_page()
    fan_page.goto(f"{site.url}/circles/{circle.pk}/")
    if fan_page.locator("input[name=agree]").count():
        fan_page.locator("input[name=agree]").check()
        fan_page.get_by_role("button", name="同意并继续").click()
        fan_page.goto(f"{site.url}/circles/{circle.pk}/")
    post = fan_page.locator("article.post").filter(has_text="我的第一篇干货")
    post.get_by_role("link", name=re.compile("打赏")).click()
    fan_page.locator("input[name=custom_yuan]").fill("5")
    fan_page.get_by_role("button", name="去支付").click()
    expect(fan_page.locator(".checkout .total")).to_contain_text("¥5")
    fan_page.locator("input[name=channel][value=sandbox]").check()
    fan_page.locator(".pay-form button[type=submit]").click()
    fan_page.get_by_role("button", name="确认支付").click()
    expect(fan_page.locator("main")).to_contain_text("支付成功")  # back on the tipped post
    fan_context.close()

    # the author sees the held earning (the platform keeps its fee) in the wallet
    page.goto(f"{site.url}/payments/wallet/")
    expect(page.locator("[data-testid=pending]")).not_to_have_text("¥0.00")
    expect(page.locator("body")).to_contain_text("圈子打赏")


def test_shared_link_brings_a_friend_who_buys_vip_and_the_promoter_sees_a_held_commission(
    browser: Browser, browser_context_args, page: Page, site, login_as
):
    from members.models import User

    promoter = User.objects.get(username="member")
    login_as(page.context, promoter)
    page.goto(f"{site.url}/referrals/agreement/")
    if page.locator("form input[type=checkbox]").count():
        page.locator("form input[type=checkbox]").check()
        page.get_by_role("button", name="同意并继续").click()
    page.goto(f"{site.url}/referrals/")
    share_url = page.locator("#share-url").input_value()
    assert promoter.referral_code in share_url

    friend_context = browser.new_context(**browser_context_args)
    friend = friend_context.new_page()
    friend.goto(site.url + share_url[share_url.index("/r/") :])
    sign_up_by_phone(friend, site.url, "13600002222")
    friend.goto(f"{site.url}/membership/VIP/")
    pay_with_sandbox(friend, expected_amount="¥3,600")
    friend_context.close()

    page.goto(f"{site.url}/referrals/")
    expect(page.locator("body")).to_contain_text("我邀请的人（1）")
    expect(page.locator(".stats .card").first).not_to_contain_text("¥0.00")
