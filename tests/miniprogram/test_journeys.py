"""The mini-program's end-to-end journeys: its real page code runs in Node (miniprogram/tests/e2e) against
this live server, seeded like `make demo`, with WeChat played by the test fake (tests/fakes/wechat.py).

The fake gets two routes only the Node `wx` shim calls, standing in for what WeChat's client does:
- `POST /_miniprogram/login {"user"}` → a fresh code that the fake's jscode2session accepts (wx.login);
- `POST /_miniprogram/pay {wx.requestPayment params}` → the member pays: the fake checks the paySign
  with the merchant's public key, marks the transaction paid and POSTs the signed notification to the
  server's notify URL (what WeChat does), answering with the server's status;
- `POST /_miniprogram/transfer {wx.requestMerchantTransfer params}` → the payee confirms a 商家转账 bill
  in WeChat: the fake marks the bill paid and POSTs the signed MCHTRANSFER.BILL.FINISHED notification
  to the server's transfer notify URL.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from werkzeug import Response

from payments.gateways import protocol
from tests.conftest import IN_CI
from tests.fakes.wechat_courses import CoursesWeChat
from tests.fakes.wechat_transfers import install as install_transfers

ROOT = Path(__file__).resolve().parents[2]
MINIPROGRAM = ROOT / "miniprogram"


def _node_ready() -> str:
    if shutil.which("node") is None:
        return "node is not installed (Node 20+ runs the mini-program's journeys)"
    if not (MINIPROGRAM / "node_modules" / ".bin" / "jest").exists():
        return "miniprogram/node_modules is missing: run `npm ci` in miniprogram/ (scripts/test.sh does)"
    return ""


@pytest.fixture
def wechat_for_client(fake_wechat, live_server, settings):
    """The fake WeChat plus the two client-side routes; notifications go to the live server."""
    settings.WECHATPAY_NOTIFY_URL = f"{live_server.url}/payments/wechatpay/notify/"
    settings.SITE_URL = live_server.url
    openids: dict[str, str] = {}
    deliveries: list[int] = []

    def login(request, match):
        user = json.loads(request.get_data(as_text=True) or "{}").get("user") or "member"
        openid = openids.setdefault(user, f"o_journey_{user}")
        return Response(
            json.dumps({"code": fake_wechat.login_code(openid=openid)}), content_type="application/json"
        )

    def pay(request, match):
        params = json.loads(request.get_data(as_text=True) or "{}")
        # wx.requestPayment takes no appId: WeChat signs for the mini-program that is running.
        message = f"{fake_wechat.appid}\n{params.get('timeStamp')}\n{params.get('nonceStr')}\n{params.get('package')}\n"
        if not protocol.rsa_verify(fake_wechat.keys.merchant.public_pem, message, params.get("paySign", "")):
            return Response(json.dumps({"errMsg": "requestPayment:fail sign"}), status=400)
        prepay_id = str(params.get("package", "")).removeprefix("prepay_id=")
        trx = next((t for t in fake_wechat.transactions.values() if t["prepay_id"] == prepay_id), None)
        if trx is None:
            return Response(json.dumps({"errMsg": "requestPayment:fail prepay_id"}), status=400)
        headers, body = fake_wechat.pay(trx["out_trade_no"])
        answer = requests.post(settings.WECHATPAY_NOTIFY_URL, data=body, headers=headers, timeout=10)
        deliveries.append(answer.status_code)
        return Response(json.dumps({"notify_status": answer.status_code}), status=200 if answer.ok else 502)

    transfers = install_transfers(fake_wechat)

    def transfer(request, match):
        params = json.loads(request.get_data(as_text=True) or "{}")
        bill = next((b for b in transfers.bills.values() if b["package_info"] == params.get("package")), None)
        if bill is None or params.get("mchId") != settings.WECHATPAY_MCHID:
            return Response(json.dumps({"errMsg": "requestMerchantTransfer:fail package"}), status=400)
        headers, body = transfers.confirm(bill["out_bill_no"])
        answer = requests.post(
            f"{live_server.url}/payments/wechatpay/transfer-notify/", data=body, headers=headers, timeout=10
        )
        deliveries.append(answer.status_code)
        return Response(json.dumps({"notify_status": answer.status_code}), status=200 if answer.ok else 502)

    CoursesWeChat(fake_wechat).install()  # msgSecCheck passes posts and comments, as WeChat would
    fake_wechat.route("POST", r"/_miniprogram/login", login)
    fake_wechat.route("POST", r"/_miniprogram/pay", pay)
    fake_wechat.route("POST", r"/_miniprogram/transfer", transfer)
    fake_wechat.deliveries = deliveries
    return fake_wechat


def _promoter_with_available_earnings(settings):
    """The journeys' promoter (the fake's login for user "promoter") with ¥88 settled commission, so
    the withdrawal journey can request, have approved and confirm a WeChat transfer."""
    from datetime import timedelta

    from django.utils import timezone

    from core.models import WeChatIdentity
    from members.models import User
    from payments.wallet import earnings, settlement

    promoter = User.objects.create(username="journey_promoter", nickname="推广达人小周")
    WeChatIdentity.objects.create(
        user=promoter,
        kind="miniprogram",
        appid=settings.WECHAT_MINIPROGRAM_APPID,
        openid="o_journey_promoter",
    )
    earnings.earning_accrue(
        user=promoter,
        amount_fen=8_800,
        source="commission",
        idempotency_key="journey:promoter:commission",
        hold_until=timezone.now() - timedelta(seconds=1),
        description="旅程：推荐好友开通 VIP 的佣金",
    )
    settlement.settle_due(now=timezone.now())


@pytest.mark.slow
@pytest.mark.postgres
def test_miniprogram_journeys_against_the_live_server(
    live_server, wechat_for_client, settings, tmp_path_factory
):
    problem = _node_ready()
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    call_command("seed_demo", stdout=io.StringIO())
    from members.models import SubscribeTemplate

    _promoter_with_available_earnings(settings)
    # As an operator does in admin: paste WeChat's template id, which switches the opt-in prompt on.
    SubscribeTemplate.objects.filter(key="renewal_reminder").update(template_id="TPL_renewal_journey")
    env = {
        **os.environ,
        "ZQ_API_BASE_URL": live_server.url,
        "ZQ_WECHAT_FAKE_URL": wechat_for_client.url,
        "CI": "true",  # jest: no watch mode, plain output
    }
    result = subprocess.run(
        ["npx", "--no-install", "jest", "--selectProjects", "e2e", "--runInBand", "--colors=false"],
        cwd=MINIPROGRAM,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, f"mini-program journeys failed:\n{output[-6000:]}"
    assert "Tests:" in output and "failed" not in output.split("Tests:")[-1].splitlines()[0]

    # The server saw what the client claims: bound referrer, a refunded (or refunding) VIP order.
    from members.models import User
    from payments.models import Order
    from referrals.models import ReferralBinding

    newbie = User.objects.get(wechat_identities__openid="o_journey_newbie")
    promoter = User.objects.get(wechat_identities__openid="o_journey_promoter")
    assert User.objects.filter(wechat_identities__openid="o_sandbox_devtools").exists()  # sandbox login
    assert ReferralBinding.objects.get(user=newbie).referrer_id == promoter.pk
    statuses = set(Order.objects.filter(user=newbie).values_list("status", flat=True))
    assert statuses & {Order.Status.REFUNDING, Order.Status.REFUNDED}, statuses
    # the payment the member cancelled left its order pending, until they cancelled the order to refund
    assert Order.Status.CLOSED in statuses, statuses
    assert wechat_for_client.deliveries and all(s < 300 for s in wechat_for_client.deliveries)
    # the promoter's withdrawal: approved in admin, confirmed in WeChat, paid from the ledger
    from payments.models import Withdrawal
    from payments.wallet import ledger

    withdrawal = Withdrawal.objects.get(user=promoter)
    assert withdrawal.status == Withdrawal.Status.PAID and withdrawal.method == "wechat"
    assert ledger.balances(promoter).withdrawn_fen == withdrawal.amount_fen == 8_800
