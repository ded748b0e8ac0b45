"""What a new member clicks through, on a phone and on a desktop."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign_up_by_phone(page: Page, base_url: str, phone: str) -> None:
    from members.sms import ConsoleSmsSender

    ConsoleSmsSender.outbox.clear()
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password1]", "journey-pass-2026")
    page.fill("input[name=password2]", "journey-pass-2026")
    page.click("form button[type=submit]")
    # allauth asks for the code the SMS sender delivered
    expect(page.locator("input[name=code]")).to_be_visible()
    code = ConsoleSmsSender.outbox[-1][1]
    page.fill("input[name=code]", code)
    page.click("form button[type=submit]")


def pay_with_sandbox(page: Page, *, expected_amount: str) -> None:
    """From an item page's buy button: confirm the order, pay in the sandbox cashier, see it paid."""
    page.get_by_role("link", name=re.compile("支付|购买|开通|报名|加入")).first.click()
    expect(page.locator(".checkout .total")).to_contain_text(expected_amount)
    page.locator("input[name=channel][value=sandbox]").check()
    page.locator(".pay-form button[type=submit]").click()
    expect(page.locator(".cashier.sandbox")).to_contain_text(expected_amount)
    page.get_by_role("button", name="确认支付").click()
    expect(page.locator("main")).to_contain_text("支付成功")  # on what was bought, or the order


def test_sign_up_by_phone_buy_vip_with_sandbox_and_open_an_included_lesson(page: Page, site):
    sign_up_by_phone(page, site.url, "13912345678")
    page.goto(f"{site.url}/")
    vip = page.locator("[data-tier=VIP]")
    expect(vip).to_contain_text("¥3,600")
    vip.get_by_role("link").click()
    pay_with_sandbox(page, expected_amount="¥3,600")

    # the membership shows on the account page with its member number and 365 days
    page.goto(f"{site.url}/account/")
    expect(page.locator("body")).to_contain_text(re.compile(r"VIP-\d{6}"))
    expect(page.locator("body")).to_contain_text("365")

    # a lesson that is not a free preview, in a course VIP includes, is now open
    page.goto(f"{site.url}/courses/")
    page.get_by_role("link", name="私域增长实战 12 讲").first.click()
    expect(page.locator("[data-course-access]")).to_have_attribute("data-course-access", "unlocked")
    page.locator("li.lesson-row[data-locked='0']").nth(1).get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("讲义")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_nav_shows_its_last_item_whole_in_either_language(page: Page, live_server, language):
    """A staff member's nav has the most items (运营 last); English labels are the longest. At 390 px
    the nav wraps instead of scrolling, so nothing is cut off at the right edge."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, nickname="运营"))
    page.context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page.goto(f"{live_server.url}/")
    nav = page.locator("nav.nav")
    expect(nav.locator("a").last).to_have_attribute("href", "/ops/")
    fits = page.evaluate(
        """() => { const n = document.querySelector('nav.nav'); const last = n.lastElementChild;
                   const box = last.getBoundingClientRect();
                   return n.scrollWidth <= n.clientWidth && box.right <= window.innerWidth; }"""
    )
    assert fits


def test_the_hub_opens_my_circles_my_tickets_and_my_camps(page: Page, site, login_as):
    """The VIP persona (a circle bought, a ticket, a running camp term) taps 我的圈子, 电子票 and
    训练营与证书 on 我的 and lands on pages listing what they hold (axe checks each page)."""
    from members.models import User

    login_as(page.context, User.objects.get(username="vip"))
    page.goto(f"{site.url}/account/")
    page.locator("[data-hub-link=circles]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的圈子")
    joined = page.locator("[data-group=joined] [data-circle-state=joined]")
    expect(joined.first).to_contain_text("知圈创作者圈")
    expect(joined.first).to_contain_text("有效期至")

    page.goto(f"{site.url}/account/")
    page.locator("[data-hub-link=tickets]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("电子票")
    ticket = page.locator("[data-group=upcoming] [data-ticket-state=valid]").first
    expect(ticket).to_contain_text("上海线下私董会")
    ticket.get_by_role("link").click()
    expect(page.locator(".ticket")).to_have_attribute("data-ticket-status", "confirmed")

    page.goto(f"{site.url}/account/")
    page.locator("[data-hub-link=certificates]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("训练营与证书")
    term = page.locator("[data-term-phase=running]").first
    expect(term).to_contain_text("21天写作打卡营")
    expect(term.locator("[data-today-task]")).to_contain_text("今日任务")
    expect(page.locator("[data-group=certificates]")).to_contain_text("还没有证书")
