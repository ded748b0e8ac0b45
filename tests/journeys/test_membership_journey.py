"""Members' done-when, clicked through: log in, buy VIP, see the member number and 365 days, upgrade
to KA at the credited price, see the onboarding checklist; the operator sees the member in the
onboarding funnel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.journeys.test_member_journeys import pay_with_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_buys_vip_then_upgrades_to_ka_and_the_operator_sees_them(page: Page, site, login_as):
    from members.models import User
    from tests.members.helpers import age

    member = User.objects.get(username="member")
    # the demo member logs in with the phone number and password the README gives
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=login]", "13800138000")
    page.fill("input[name=password]", "zhiquan-demo-2026")
    page.locator("form button[type=submit]").first.click()
    page.goto(f"{site.url}/")
    page.locator("[data-tier=VIP]").get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("开通VIP会员（365天）")
    pay_with_sandbox(page, expected_amount="¥3,600")

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
    pay_with_sandbox(page, expected_amount=f"¥{amount // 100:,}.{amount % 100:02d}")
    page.goto(f"{site.url}/account/")
    expect(page.locator(".membership-card")).to_contain_text("KA大客户")

    page.goto(f"{site.url}/account/onboarding/")
    expect(page.locator(".onboarding-steps li")).to_have_count(4)
    expect(page.locator("#service-group")).to_contain_text("销售小王")

    # the operator's funnel lists the new member
    page.context.clear_cookies()
    login_as(page.context, User.objects.get(username="operator"))
    page.goto(f"{site.url}/admin/members/onboarding/funnel/?days=0")
    expect(page.locator("body")).to_contain_text(member.display_name)
    # the demo personas (vip, ka) wait at the same step: the count is everyone there, the member included
    from members.models import Onboarding

    waiting = Onboarding.objects.filter(stage=Onboarding.Stage.SERVICE_GROUP).count()
    assert waiting >= 1
    expect(page.locator("tr[data-step=service_group] td").nth(3)).to_have_text(str(waiting))
