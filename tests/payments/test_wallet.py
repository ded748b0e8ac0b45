"""The wallet a member sees: balances, earnings with their orders, withdrawals and the confirm-receipt
step — as pages (/payments/wallet/) and as the mini-program API (/api/v1/wallet/…)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from payments.models import PaymentNotification, Withdrawal
from payments.wallet import earnings, ledger, withdrawal_approval, withdrawals
from tests.factories import UserFactory
from tests.payments import ledger_support
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.ledger_support import (
    assert_ledger_clean,
    earn,
    refreshed,
)
from tests.payments.wechat_support import api_client, give_openid

pytestmark = pytest.mark.django_db

finance = ledger_support.finance  # fixture
transfers = ledger_support.transfers  # fixture


@pytest.fixture
def member(db):
    user = UserFactory(nickname="钱包会员")
    give_openid(user)
    return user


def test_wallet_api_shows_held_available_withdrawing_withdrawn_and_owed(member):
    earn(member, 5_000)
    earn(member, 700, settle=False)
    withdrawals.withdrawal_request(user=member, amount_fen=1_000, method="wechat")
    body = api_client(member).get("/api/v1/wallet/").json()
    assert {
        k: body[k] for k in ("pending_fen", "available_fen", "withdrawing_fen", "withdrawn_fen", "owed_fen")
    } == {
        "pending_fen": 700,
        "available_fen": 4_000,
        "withdrawing_fen": 1_000,
        "withdrawn_fen": 0,
        "owed_fen": 0,
    }
    assert body["min_amount_fen"] == 100 and body["withdrawals_left_today"] == 2 and body["can_withdraw"]
    assert body["methods"] == ["wechat", "sandbox", "bank"] and body["real_name_required_from_fen"] == 200_000


def test_owed_money_shows_and_blocks_withdrawing(member):
    earnings.earning_deduct(user=member, amount_fen=300, idempotency_key="correction")
    body = api_client(member).get("/api/v1/wallet/").json()
    assert body["owed_fen"] == 300 and body["can_withdraw"] is False
    response = api_client(member).post("/api/v1/wallet/withdrawals/", {"amount_fen": 100}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "withdrawal_blocked_owed"


def test_earnings_list_shows_the_order_each_came_from_with_a_fixed_query_count(
    member, buyer, django_assert_max_num_queries
):
    orders = [create_paid_order(user=buyer, item_type=TEST_ITEM, item_id=i) for i in ("A", "B", "A")]
    for order in orders:
        earn(member, 990, order=order, settle=False, key=f"commission:{order.order_no}")
    earn(member, 50, source="adjustment")
    client = api_client(member)
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/wallet/earnings/").json()
    assert body["count"] == 4
    latest = body["results"][0]
    assert latest["source"] == "adjustment" and latest["order"] is None and latest["status"] == "settled"
    third = body["results"][1]
    assert third["order"]["order_no"] == orders[2].order_no and third["order"]["title"] == orders[2].title
    assert third["status"] == "held" and third["source_display"] == "推广佣金" and third["amount_fen"] == 990
    for order in orders:  # more rows, same number of queries
        earn(member, 10, order=order, settle=False, key=f"more:{order.order_no}")
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/wallet/earnings/").json()["count"] == 7
    other = api_client(UserFactory()).get("/api/v1/wallet/earnings/").json()
    assert other["count"] == 0


def test_withdrawal_api_requests_lists_and_hides_other_members_withdrawals(
    member, django_assert_max_num_queries
):
    earn(member, 10_000)
    client = api_client(member)
    created = client.post(
        "/api/v1/wallet/withdrawals/",
        {"amount_fen": 2_500, "method": "wechat", "request_id": "r1"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (
        body["status"] == "pending_review"
        and body["amount_fen"] == 2_500
        and body["needs_confirmation"] is False
    )
    repeated = client.post(
        "/api/v1/wallet/withdrawals/",
        {"amount_fen": 2_500, "method": "wechat", "request_id": "r1"},
        format="json",
    )
    assert repeated.json()["id"] == body["id"]
    client.post("/api/v1/wallet/withdrawals/", {"amount_fen": 100, "method": "wechat"}, format="json")
    with django_assert_max_num_queries(4):
        listing = client.get("/api/v1/wallet/withdrawals/").json()
    assert listing["count"] == 2

    # another member's withdrawal id is a 404, on every endpoint
    stranger = api_client(UserFactory())
    for method, path in (
        ("get", f"/api/v1/wallet/withdrawals/{body['id']}/"),
        ("post", f"/api/v1/wallet/withdrawals/{body['id']}/cancel/"),
        ("get", f"/api/v1/wallet/withdrawals/{body['id']}/confirm/"),
        ("post", f"/api/v1/wallet/withdrawals/{body['id']}/confirm/"),
    ):
        assert getattr(stranger, method)(path).status_code == 404, path
    assert client.get("/api/v1/wallet/withdrawals/999999/").status_code == 404

    cancelled = client.post(f"/api/v1/wallet/withdrawals/{body['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert ledger.balances(member).available_fen == 9_900


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"amount_fen": 0}, 400, "invalid_amount"),
        ({"amount_fen": -500}, 400, "invalid_amount"),
        ({"amount_fen": 1_001}, 400, "insufficient_balance"),
        ({"amount_fen": 50}, 400, "below_minimum"),
        ({"amount_fen": "abc"}, 400, "invalid"),
        ({"amount_fen": 500, "method": "alipay"}, 400, "invalid"),
        ({"amount_fen": 500, "method": "bank"}, 400, "bank_details_required"),
    ],
)
def test_bad_withdrawal_requests_get_a_coded_error(member, payload, status, code):
    earn(member, 1_000)
    response = api_client(member).post("/api/v1/wallet/withdrawals/", payload, format="json")
    assert response.status_code == status and response.json()["code"] == code
    assert ledger.balances(member).available_fen == 1_000


def test_the_wallet_api_needs_a_login():
    client = APIClient()
    assert client.get("/api/v1/wallet/").status_code == 401
    assert client.post("/api/v1/wallet/withdrawals/", {"amount_fen": 100}, format="json").status_code == 401


def test_withdrawal_requests_are_throttled_with_scope_withdrawal(member, throttle_rates):
    earn(member, 10_000)
    throttle_rates(withdrawal="2/min")
    client = api_client(member)
    codes = [
        client.post("/api/v1/wallet/withdrawals/", {"amount_fen": 100}, format="json").status_code
        for _ in range(3)
    ]
    reads = [client.get("/api/v1/wallet/withdrawals/").status_code for _ in range(3)]
    assert codes == [201, 201, 429] and reads == [200, 200, 200]


def test_confirm_receipt_step_through_the_api(member, finance, transfers, django_capture_on_commit_callbacks):
    earn(member, 10_000)
    client = api_client(member)
    withdrawal_id = client.post("/api/v1/wallet/withdrawals/", {"amount_fen": 3_000}, format="json").json()[
        "id"
    ]
    early = client.get(f"/api/v1/wallet/withdrawals/{withdrawal_id}/confirm/")
    assert early.status_code == 409 and early.json()["code"] == "not_awaiting_confirmation"

    withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    detail = client.get(f"/api/v1/wallet/withdrawals/{withdrawal_id}/").json()
    assert detail["status"] == "wait_user_confirm" and detail["needs_confirmation"] is True

    params = client.get(f"/api/v1/wallet/withdrawals/{withdrawal_id}/confirm/").json()
    bill = transfers.bills[refreshed(withdrawal).out_bill_no]
    assert params["package_info"] == bill["package_info"]
    assert params["mch_id"] == "1900000001" and params["app_id"] == "wx_test_miniprogram"
    assert params["confirm_deadline"]

    # the member confirmed with wx.requestMerchantTransfer; the notification has not arrived yet
    transfers.confirm(bill["out_bill_no"])
    done = client.post(f"/api/v1/wallet/withdrawals/{withdrawal_id}/confirm/").json()
    assert done["status"] == "paid" and done["paid_at"]
    assert client.get("/api/v1/wallet/").json()["withdrawn_fen"] == 3_000
    assert_ledger_clean()


# ---- pages ----------------------------------------------------------------------------------------------------


def test_wallet_page_shows_balances_earnings_and_withdrawals(member, buyer, django_assert_max_num_queries):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    earn(member, 1_234, order=order, key=f"commission:{order.order_no}")
    earn(member, 500, settle=False, source="tip")
    withdrawals.withdrawal_request(user=member, amount_fen=234, method="wechat")
    client = Client()
    client.force_login(member)
    with django_assert_max_num_queries(12):
        page = client.get("/payments/wallet/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "¥10.00" in html  # available
    assert "¥5.00" in html and "¥2.34" in html  # held and withdrawing
    assert order.title in html and order.order_no in html and "打赏" in html
    assert "待审核" in html


def test_the_wallet_page_needs_a_login():
    response = Client().get("/payments/wallet/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_page_form_requests_a_withdrawal_and_shows_errors(member):
    earn(member, 2_000)
    client = Client()
    client.force_login(member)
    bad = client.post("/payments/wallet/withdraw/", {"amount_yuan": "30", "method": "wechat"}, follow=True)
    assert "可提现余额不足" in bad.content.decode()
    typo = client.post(
        "/payments/wallet/withdraw/", {"amount_yuan": "1.234", "method": "wechat"}, follow=True
    )
    assert "最多两位小数" in typo.content.decode()
    response = client.post(
        "/payments/wallet/withdraw/", {"amount_yuan": "12.50", "method": "wechat", "request_id": "form-1"}
    )
    withdrawal = Withdrawal.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/payments/wallet/withdrawals/{withdrawal.pk}/"
    )
    assert withdrawal.amount_fen == 1_250
    again = client.post(
        "/payments/wallet/withdraw/", {"amount_yuan": "12.50", "method": "wechat", "request_id": "form-1"}
    )
    assert again.status_code == 302 and Withdrawal.objects.count() == 1  # a double submit is one request
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/payments/wallet/withdrawals/{withdrawal.pk}/").status_code == 404


def test_sandbox_withdrawal_end_to_end_through_the_pages(finance, django_capture_on_commit_callbacks):
    # given a member with settled earnings in the demo (sandbox payouts)
    member = UserFactory()
    earn(member, 8_800)
    client = Client()
    client.force_login(member)
    client.post("/payments/wallet/withdraw/", {"amount_yuan": "50", "method": "sandbox", "request_id": "s1"})
    withdrawal = Withdrawal.objects.get(user=member)
    assert withdrawal.method == "sandbox"

    # when finance approves, the sandbox 'WeChat' creates the bill and waits for the member
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    detail = client.get(f"/payments/wallet/withdrawals/{withdrawal.pk}/").content.decode()
    assert "确认收款（沙箱演示）" in detail

    # when the member confirms receipt
    response = client.post(f"/payments/wallet/withdrawals/{withdrawal.pk}/confirm/", follow=True)

    # then the signed notification went through the real notify view and the money is paid out
    assert "已到账" in response.content.decode()
    assert refreshed(withdrawal).status == "paid"
    assert PaymentNotification.objects.get(event_type="MCHTRANSFER.BILL.FINISHED").outcome == "processed"
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.withdrawn_fen) == (3_800, 5_000)
    assert_ledger_clean()


def test_circles_link_to_the_wallet_url():
    from django.urls import reverse

    assert reverse("payments:wallet") == "/payments/wallet/"
