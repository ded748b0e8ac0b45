"""The issue's done-when, clicked through in Chromium on a phone viewport against the demo data:
log in, buy VIP, see the member number and 365 days, upgrade to KA at the credited price, see the
onboarding checklist; the operator sees the member in the onboarding funnel."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls between clicks, in Playwright's thread

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
    }


@pytest.fixture
def site(live_server, settings, tmp_path_factory):
    from members import demo

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.SITE_URL = live_server.url
    settings.WECHATPAY_NOTIFY_URL = f"{live_server.url}/payments/wechatpay/notify/"
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    demo.seed(stdout=io.StringIO(), history=False)
    return live_server


def log_in(page, base: str, username: str) -> None:
    from members.demo import DEMO_PASSWORD

    page.goto(f"{base}/admin/login/?next=/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("input[type=submit]")


def pay_in_sandbox(page, amount: str) -> None:
    page.get_by_role("link", name="去支付").click()
    expect(page.locator(".checkout .total")).to_contain_text(amount)
    page.locator("input[name=channel][value=sandbox]").check()
    page.locator(".pay-form button[type=submit]").click()
    page.get_by_role("button", name="确认支付").click()
    expect(page.locator("#order-status")).to_contain_text("支付成功")


def test_member_buys_vip_then_upgrades_to_ka_and_the_operator_sees_them(page, site):
    from members.models import User
    from tests.members.helpers import age

    member = User.objects.get(username="member")
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=login]", "+8613800138000")
    page.fill("input[name=password]", "zhiquan-demo-2026")
    page.locator("form button[type=submit]").first.click()
    page.goto(f"{site.url}/")
    page.locator("[data-tier=VIP]").get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("开通VIP会员（365天）")
    pay_in_sandbox(page, "¥3,600")

    page.goto(f"{site.url}/account/")
    expect(page.locator("[data-member-no]")).to_have_text(re.compile(r"VIP-\d{6}"))
    expect(page.locator("[data-days-left]")).to_contain_text("365")
    expect(page.locator(".onboarding-steps")).to_contain_text("加入对接群")

    age(member, 65)  # 300 days left: the upgrade is credited pro rata
    credit = 360_000 * 300 // 365
    amount = 12_000_000 - credit
    page.goto(f"{site.url}/account/")
    page.locator("[data-offer=upgrade]").click()
    expect(page.locator("body")).to_contain_text("原VIP会员剩余 300 天折抵")
    pay_in_sandbox(page, f"¥{amount // 100:,}.{amount % 100:02d}")
    page.goto(f"{site.url}/account/")
    expect(page.locator(".membership-card")).to_contain_text("KA大客户")

    page.goto(f"{site.url}/account/onboarding/")
    expect(page.locator(".onboarding-steps li")).to_have_count(4)
    expect(page.locator("#service-group")).to_contain_text("销售小王")

    # the operator's funnel lists the new member
    page.context.clear_cookies()
    log_in(page, site.url, "operator")
    page.goto(f"{site.url}/admin/members/onboarding/funnel/?days=0")
    expect(page.locator("body")).to_contain_text(member.display_name)
    expect(page.locator("tr[data-step=service_group]")).to_contain_text("1")
