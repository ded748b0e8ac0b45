"""The issue's "done when", end to end through the real pages, hooks, ledger and sandbox:
A shares a link, B signs up through it and buys VIP, A sees a held commission, settlement (clock moved
past the window) makes it available, and A withdraws through the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from core.roles import FINANCE
from members.models import User
from payments.gateways import sandbox
from payments.models import Order
from payments.orders.payment_attempts import payment_start
from payments.wallet import ledger, settlement, withdrawal_approval, withdrawals
from referrals import agreements, attribution
from referrals.models import ReferralLinkStat
from tests.factories import TierFactory, UserFactory
from tests.referrals import factories as f
from tests.referrals.conftest import run_on_commit

pytestmark = pytest.mark.django_db


def test_share_signup_buy_settle_withdraw(client, alice):
    # given VIP at ¥3,600, a 10% direct rule on memberships and Alice's accepted agreement
    TierFactory(code="VIP", price_fen=360_000)
    f.rule(item_type="membership", rate_bp=1000)
    agreements.agreement_accept(user=alice, agreement=f.agreement(1))
    # when Bob opens Alice's link and signs up on the web
    client.get(f"/r/{alice.referral_code}/?c=chat")
    response = client.post(
        "/accounts/signup/",
        {"phone": "13800138009", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    assert response.status_code == 302
    bob = User.objects.get_by_phone("13800138009")
    assert attribution.active_binding(bob).referrer == alice
    assert ReferralLinkStat.objects.get(user=alice, channel="chat").signups == 1
    # and buys VIP through the web checkout with the sandbox
    client.force_login(bob)
    checkout = client.post(
        "/payments/checkout/", {"item_type": "membership", "item_id": "VIP", "channel": "sandbox"}
    )
    assert checkout.status_code == 302
    order = Order.objects.get(user=bob)
    assert order.referrer == alice and order.amount_fen == 360_000
    with run_on_commit():
        payment = payment_start(order=order, channel="sandbox")
        assert sandbox.sandbox_pay(payment.out_trade_no) < 300
    # then Alice sees ¥360 held, in her referral center and in API row 9
    client.force_login(alice)
    page = client.get("/referrals/").content.decode()
    assert "¥360.00" in page and "冻结中" in page
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get("/api/v1/referrals/me/").json()["earnings"]["pending_fen"] == 36_000
    # when the settlement job runs with the clock moved past the 7-day membership refund window
    settlement.settle_due(now=timezone.now() + timedelta(days=8))
    assert ledger.balances(alice).available_fen == 36_000
    # then Alice withdraws it through the sandbox payout
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get_or_create(name=FINANCE)[0])
    withdrawal = withdrawals.withdrawal_request(user=alice, amount_fen=36_000, method="sandbox", real_name="")
    with run_on_commit():
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    withdrawal.refresh_from_db()
    sandbox.sandbox_finish_transfer(withdrawal.out_bill_no)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    body = api.get("/api/v1/referrals/me/").json()
    assert body["earnings"] == {"pending_fen": 0, "available_fen": 0, "withdrawn_fen": 36_000}
