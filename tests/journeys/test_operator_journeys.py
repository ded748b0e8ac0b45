"""An operator refunds an order and approves a withdrawal in admin, and finds both in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def member_with_order_and_withdrawal():
    from members.models import User
    from payments.wallet import earnings, ledger, settlement, withdrawals
    from tests.payments.helpers import create_paid_order

    member = User.objects.get(username="member")
    order = create_paid_order(user=member, item_type="membership", item_id="VIP")
    promoter = User.objects.get(username="creator")
    earning = earnings.earning_accrue(
        user=promoter,
        amount_fen=8_800,
        source="commission",
        idempotency_key=f"journey:{order.order_no}",
        hold_until=timezone.now() - timedelta(seconds=1),
        order=order,
        description="旅程测试佣金",
    )
    settlement.settle_due(now=timezone.now())
    assert ledger.balances(promoter).available_fen >= earning.amount_fen
    withdrawal = withdrawals.withdrawal_request(user=promoter, amount_fen=5_000, method="sandbox")
    return order, withdrawal


def test_operator_refunds_an_order_and_approves_a_withdrawal_then_sees_both_audited(
    page: Page, site, login_as
):
    from members.models import User

    order, withdrawal = member_with_order_and_withdrawal()
    login_as(page.context, User.objects.get(username="operator"))

    # refund: find the order by its number, open it, refund in full with a reason
    page.goto(f"{site.url}/admin/payments/order/?q={order.order_no}")
    page.get_by_role("link", name=order.order_no).first.click()
    page.goto(f"{site.url}/admin/payments/order/{order.pk}/refund/")
    page.locator("[name=reason]").fill("会员申请退款，运营同意")
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".messagelist")).to_contain_text("已提交退款")
    order.refresh_from_db()
    assert order.status == "refunded"

    # approve the withdrawal from its admin page
    page.goto(f"{site.url}/admin/payments/withdrawal/{withdrawal.pk}/approve/")
    expect(page.locator("#content")).to_contain_text("¥50.00")
    page.locator("input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("审核通过")
    withdrawal.refresh_from_db()
    assert withdrawal.status != "requested"

    # both show in the audit log of operator actions
    page.goto(f"{site.url}/admin/core/auditlog/")
    log = page.locator("#result_list")
    expect(log).to_contain_text("refund")
    expect(log).to_contain_text("withdrawal")


def test_operator_sees_the_brand_preview_follow_the_form_before_saving(page: Page, site, login_as):
    """The brand admin's preview redraws as the operator types: the header's name and colour at once,
    the poster from the server a moment later; 保存 is what changes the site."""
    from core.models import Brand
    from members.models import User

    login_as(page.context, User.objects.get(username="operator"))
    page.goto(f"{site.url}/admin/core/brand/")  # opens the one brand's form (or the form to add it)
    preview = page.locator("[data-brand-preview]")
    poster = preview.locator("[data-preview-poster]")
    expect(poster).to_have_attribute("src", re.compile(r"poster-preview\.png"))

    page.locator("#id_site_name").fill("晨读社")
    page.locator("#id_short_name").fill("晨读")
    page.locator("#id_primary_color").fill("#aa0000")
    expect(preview.locator('[data-preview="site_name"]')).to_have_text("晨读社")
    expect(preview.locator('[data-preview="short_name"]')).to_have_text("晨读")
    expect(preview.locator("[data-preview-initial]")).to_have_text("晨")  # the site icon's mark
    header = preview.locator("[data-preview-header]")
    expect(header).to_have_css("background-color", "rgb(170, 0, 0)")
    expect(poster).to_have_attribute("src", re.compile(r"^blob:"))  # redrawn with the typed values
    assert not Brand.objects.filter(site_name="晨读社").exists()  # nothing saved yet
    expect(preview.locator(".brand-preview-problem")).to_have_text("")
