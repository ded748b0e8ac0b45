"""Withdrawals: limits, review (two operators above the threshold), WeChat 商家转账 through the fake
(out_bill_no reused, a non-200 answer followed by a query), confirmation and its 24-hour expiry, bank
payouts, and the money moving available → withdrawing → paid or back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditLog
from payments.models import PaymentNotification, Transaction, Withdrawal
from payments.wallet import earnings, ledger, withdrawal_approval, withdrawal_payouts, withdrawals
from tests.conftest import CLOSED_PORT_URL
from tests.factories import UserFactory
from tests.fakes.wechat_transfers import CreateFailure
from tests.payments import ledger_support
from tests.payments.ledger_support import (
    assert_ledger_clean,
    deliver_transfer,
    earn,
    refreshed,
    set_limits,
)
from tests.payments.wechat_support import give_openid

pytestmark = pytest.mark.django_db

finance = ledger_support.finance  # fixture
finance2 = ledger_support.finance2  # fixture
transfers = ledger_support.transfers  # fixture

W = Withdrawal.Status


@pytest.fixture
def member(db):
    user = UserFactory(nickname="提现会员")
    give_openid(user)
    earn(user, 100_000)  # ¥1,000 available
    return user


def request(user, amount_fen, **kwargs) -> Withdrawal:
    return withdrawals.withdrawal_request(
        user=user, amount_fen=amount_fen, method=kwargs.pop("method", "wechat"), **kwargs
    )


def told(user) -> list[str]:
    """The withdrawal notifications the member received, oldest first ("title: body")."""
    from members.models import Notification

    return [
        f"{n.title}: {n.body}"
        for n in Notification.objects.filter(user=user, kind="withdrawal").order_by("created_at", "id")
    ]


def approve_and_submit(withdrawal, operator, on_commit) -> Withdrawal:
    with on_commit(execute=True):
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=operator)
    return refreshed(withdrawal)


# ---- requesting ------------------------------------------------------------------------------------------


def test_a_request_moves_available_to_withdrawing_at_once(member):
    withdrawal = request(member, 30_000)
    assert withdrawal.status == W.PENDING_REVIEW and withdrawal.out_bill_no.isalnum()
    assert 5 <= len(withdrawal.out_bill_no) <= 32
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.withdrawing_fen) == (70_000, 30_000)
    assert withdrawal.events.get().to_status == W.PENDING_REVIEW
    assert withdrawal.payee_openid == f"o_test_{member.pk}" and withdrawal.real_name == ""
    assert_ledger_clean()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "invalid_amount"),
        (-100, "invalid_amount"),
        (99, "below_minimum"),
        (100_001, "insufficient_balance"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_moves(member, amount, code):
    with pytest.raises(ApplicationError) as exc:
        request(member, amount)
    assert exc.value.code == code
    assert ledger.balances(member).available_fen == 100_000 and not Withdrawal.objects.exists()


def test_limits_come_from_the_operator_settings(member):
    set_limits(min_amount_fen=5_000, max_amount_fen=40_000, daily_count_limit=2)
    with pytest.raises(ApplicationError) as exc:
        request(member, 4_999)
    assert exc.value.code == "below_minimum" and exc.value.extra["min_amount_fen"] == 5_000
    with pytest.raises(ApplicationError) as exc:
        request(member, 40_001)
    assert exc.value.code == "above_maximum"
    first = request(member, 5_000)
    withdrawals.withdrawal_cancel(withdrawal=first, user=member)  # a cancelled request does not count
    request(member, 5_000)
    request(member, 5_000)
    with pytest.raises(ApplicationError) as exc:
        request(member, 5_000)
    assert exc.value.code == "daily_limit_reached"
    assert ledger.balances(member).withdrawing_fen == 10_000


def test_no_withdrawal_while_money_is_owed(member):
    earning = earn(member, 200_000 - 100_000)  # ¥1,000 more, available ¥2,000
    request(member, 150_000, real_name="王小明")
    earnings.earning_reverse(earning=earning, amount_fen=100_000, idempotency_key="refund-after-settle")
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.owed_fen) == (0, 50_000)
    with pytest.raises(ApplicationError) as exc:
        request(member, 100)
    assert exc.value.code == "withdrawal_blocked_owed" and exc.value.extra["owed_fen"] == 50_000


def test_a_repeated_request_id_returns_the_first_request(member):
    first = request(member, 1_000, request_id="tap-1")
    again = request(member, 1_000, request_id="tap-1")
    assert again.pk == first.pk and ledger.balances(member).withdrawing_fen == 1_000


def test_wechat_needs_an_openid_and_a_real_name_from_2000_yuan(member):
    earn(member, 200_000)
    with pytest.raises(ApplicationError) as exc:
        request(member, 200_000)
    assert exc.value.code == "real_name_required"
    no_openid = UserFactory()
    earn(no_openid, 1_000)
    with pytest.raises(ApplicationError) as exc:
        request(no_openid, 1_000)
    assert exc.value.code == "openid_required"
    below = request(member, 199_999, real_name="王小明")
    assert below.real_name == ""  # not collected where WeChat does not need it


def test_bank_requests_need_name_bank_and_account(member):
    with pytest.raises(ApplicationError) as exc:
        request(member, 1_000, method="bank", real_name="王小明")
    assert exc.value.code == "bank_details_required" and set(exc.value.fields) == {
        "bank_name",
        "bank_account",
    }
    with pytest.raises(ApplicationError) as exc:
        request(member, 1_000, method="bank", real_name="王小明", bank_name="招商银行", bank_account="12ab")
    assert exc.value.code == "invalid_bank_account"
    ok = request(
        member,
        1_000,
        method="bank",
        real_name="王小明",
        bank_name="招商银行",
        bank_account="6225 8801 2345 6789",
    )
    assert ok.bank_account == "6225880123456789"


def test_the_sandbox_is_refused_when_disabled(member, settings):
    settings.PAYMENTS_SANDBOX_ENABLED = False
    with pytest.raises(ApplicationError) as exc:
        request(member, 1_000, method="sandbox")
    assert exc.value.code == "payout_method_unavailable"


def test_personal_data_is_encrypted_at_rest(member):
    earn(member, 300_000)
    withdrawal = request(member, 250_000, real_name="王小明", request_id="big")
    bank = request(
        member, 1_000, method="bank", real_name="李四", bank_name="工商银行", bank_account="6222020200112233"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, bank_account FROM payments_withdrawal WHERE id IN (%s, %s)",
            [withdrawal.pk, bank.pk],
        )
        stored = " ".join(v for row in cursor.fetchall() for v in row)
    assert "王小明" not in stored and "李四" not in stored and "6222020200112233" not in stored
    assert refreshed(withdrawal).real_name == "王小明" and refreshed(bank).bank_account == "6222020200112233"


# ---- review ------------------------------------------------------------------------------------------------


def test_only_finance_may_review_and_nobody_their_own(member, finance):
    withdrawal = request(member, 1_000)
    staff = UserFactory(is_staff=True)
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=staff)
    assert exc.value.code == "permission_denied" and exc.value.status_code == 403
    give_openid(finance)
    earn(finance, 1_000)
    own = request(finance, 1_000)
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_approve(withdrawal=own, operator=finance)
    assert exc.value.code == "own_withdrawal"


def test_above_the_threshold_two_different_operators_must_approve(
    member, finance, finance2, transfers, django_capture_on_commit_callbacks
):
    set_limits(dual_approval_threshold_fen=50_000)
    withdrawal = request(member, 60_000)
    assert withdrawal.needs_second_approval

    first = withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    assert first.status == W.PENDING_REVIEW and first.first_approved_by == finance
    with pytest.raises(ApplicationError) as exc:  # the same operator approving twice
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    assert exc.value.code == "second_approver_required"
    assert not transfers.bills  # nothing sent to WeChat yet

    done = approve_and_submit(withdrawal, finance2, django_capture_on_commit_callbacks)
    assert done.second_approved_by == finance2 and done.status == W.WAIT_USER_CONFIRM
    with pytest.raises(ApplicationError) as exc:  # approving an approved withdrawal
        withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    assert exc.value.code == "already_reviewed" and exc.value.status_code == 409
    actions = list(AuditLog.objects.filter(target_id=str(withdrawal.pk)).values_list("action", "actor"))
    assert actions == [("withdrawal_approve", finance2.pk), ("withdrawal_first_approval", finance.pk)]


def test_below_the_threshold_one_approval_is_enough(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 1_000), finance, django_capture_on_commit_callbacks)
    assert withdrawal.status == W.WAIT_USER_CONFIRM and withdrawal.approvals == 1


def test_reject_returns_the_money_with_a_reason_and_an_audit_row(member, finance):
    withdrawal = request(member, 5_000)
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_reject(withdrawal=withdrawal, operator=finance, reason=" ")
    assert exc.value.code == "reason_required"
    withdrawal_approval.withdrawal_reject(withdrawal=withdrawal, operator=finance, reason="收款信息不符")
    withdrawal = refreshed(withdrawal)
    assert withdrawal.status == W.REJECTED and withdrawal.reject_reason == "收款信息不符"
    assert ledger.balances(member).available_fen == 100_000 and ledger.balances(member).withdrawing_fen == 0
    assert AuditLog.objects.get(action="withdrawal_reject").actor == finance
    assert told(member) == ["提现申请被驳回: ¥50.00 的提现申请被驳回：收款信息不符。金额已退回可提现余额。"]
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_reject(withdrawal=withdrawal, operator=finance, reason="again")
    assert exc.value.code == "already_reviewed"
    assert Transaction.objects.filter(kind="payout_return").count() == 1
    assert_ledger_clean()


def test_returned_money_repays_what_is_owed_first(member, finance):
    extra = earn(member, 20_000)
    withdrawal = request(member, 120_000)
    earnings.earning_reverse(earning=extra, amount_fen=20_000, idempotency_key="late-refund")
    assert ledger.balances(member).owed_fen == 20_000
    withdrawal_approval.withdrawal_reject(withdrawal=withdrawal, operator=finance, reason="核实中")
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.owed_fen, balances.withdrawing_fen) == (100_000, 0, 0)
    assert_ledger_clean()


def test_bank_withdrawals_are_paid_by_an_operator_recording_the_transfer(member, finance):
    withdrawal = request(
        member,
        8_000,
        method="bank",
        real_name="王小明",
        bank_name="招商银行",
        bank_account="6225880123456789",
    )
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_mark_paid(withdrawal=withdrawal, operator=finance, bank_reference="B1")
    assert exc.value.code == "not_approved"
    withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=finance)
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_mark_paid(withdrawal=withdrawal, operator=finance, bank_reference="")
    assert exc.value.code == "reference_required"
    withdrawal_approval.withdrawal_mark_paid(
        withdrawal=withdrawal, operator=finance, bank_reference="CMB20261123001"
    )
    withdrawal = refreshed(withdrawal)
    assert (
        withdrawal.status == W.PAID and withdrawal.paid_at and withdrawal.bank_reference == "CMB20261123001"
    )
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.withdrawing_fen, balances.withdrawn_fen) == (92_000, 0, 8_000)
    assert AuditLog.objects.filter(action="withdrawal_mark_paid", actor=finance).exists()
    wechat = request(member, 1_000)
    withdrawal_approval.withdrawal_approve(withdrawal=wechat, operator=finance)
    with pytest.raises(ApplicationError) as exc:
        withdrawal_approval.withdrawal_mark_paid(withdrawal=wechat, operator=finance, bank_reference="X")
    assert exc.value.code == "not_bank_withdrawal"
    assert_ledger_clean()


def test_the_member_can_cancel_only_while_it_waits_for_review(member, finance):
    withdrawal = request(member, 3_000)
    other = UserFactory()
    with pytest.raises(ApplicationError) as exc:
        withdrawals.withdrawal_cancel(withdrawal=withdrawal, user=other)
    assert exc.value.status_code == 404
    withdrawals.withdrawal_cancel(withdrawal=withdrawal, user=member)
    assert refreshed(withdrawal).status == W.CANCELLED and ledger.balances(member).available_fen == 100_000
    approved = request(member, 3_000)
    withdrawal_approval.withdrawal_approve(withdrawal=approved, operator=finance)
    with pytest.raises(ApplicationError) as exc:
        withdrawals.withdrawal_cancel(withdrawal=approved, user=member)
    assert exc.value.code == "cannot_cancel"


# ---- WeChat 商家转账 ---------------------------------------------------------------------------------------


def test_wechat_transfer_waits_for_the_member_then_pays_on_the_notification(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 12_345), finance, django_capture_on_commit_callbacks)

    # WeChat got a signed, well-formed bill and answered with package_info for the confirm step
    bill = transfers.bills[withdrawal.out_bill_no]
    sent = transfers.requests[-1]
    assert sent["transfer_amount"] == 12_345 and sent["openid"] == f"o_test_{member.pk}"
    assert sent["appid"] == "wx_test_miniprogram" and sent["transfer_scene_id"] == "1005"
    assert sent["notify_url"].endswith("/payments/wechatpay/transfer-notify/") and "user_name" not in sent
    assert (
        withdrawal.status == W.WAIT_USER_CONFIRM and withdrawal.transfer_bill_no == bill["transfer_bill_no"]
    )
    assert withdrawal.package_info == bill["package_info"]
    assert timedelta(hours=23) < withdrawal.confirm_deadline - timezone.now() <= timedelta(hours=24)
    [waiting] = told(member)
    assert waiting.startswith("提现待确认收款: ¥123.45 已发起转账，请打开提现详情确认收款（")
    assert withdrawal_payouts.confirm_params(withdrawal=withdrawal) == {
        "mchId": "1900000001",
        "appId": "wx_test_miniprogram",
        "package": bill["package_info"],
    }

    # the member confirms in the mini-program; WeChat notifies
    headers, body = transfers.confirm(withdrawal.out_bill_no)
    assert deliver_transfer(headers, body).status_code == 204
    withdrawal = refreshed(withdrawal)
    assert withdrawal.status == W.PAID and withdrawal.paid_at
    balances = ledger.balances(member)
    assert (balances.available_fen, balances.withdrawing_fen, balances.withdrawn_fen) == (87_655, 0, 12_345)

    # WeChat delivers it again: acknowledged, nothing changes
    assert deliver_transfer(headers, body).status_code == 200
    assert Transaction.objects.filter(kind="payout").count() == 1
    assert (
        PaymentNotification.objects.filter(
            event_type="MCHTRANSFER.BILL.FINISHED", outcome="processed"
        ).count()
        == 1
    )
    assert told(member) == [waiting, "提现已到账: ¥123.45 已到账。"]  # once, whatever WeChat repeats
    assert_ledger_clean()


def test_a_lost_answer_is_followed_by_a_query_and_the_bill_is_found(
    member, finance, transfers, fake_wechat, django_capture_on_commit_callbacks
):
    # WeChat creates the bill but the answer we get is a 500
    transfers.create_failures.append(
        CreateFailure(500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}, True)
    )
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)

    bill_calls = [c for c in fake_wechat.calls if "transfer-bills" in c[1]]
    assert bill_calls == [
        ("POST", "/v3/fund-app/mch-transfer/transfer-bills"),
        ("GET", f"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{withdrawal.out_bill_no}"),
    ]
    assert withdrawal.status == W.WAIT_USER_CONFIRM
    assert withdrawal.transfer_bill_no == transfers.bills[withdrawal.out_bill_no]["transfer_bill_no"]
    assert len(transfers.bills) == 1


def test_a_5xx_without_a_bill_is_sent_again_later_with_the_same_out_bill_no(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    transfers.create_failures.append(CreateFailure(500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}))
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    assert withdrawal.status == W.TRANSFERRING and "SYSTEM_ERROR" in withdrawal.last_error
    assert not transfers.bills and ledger.balances(member).withdrawing_fen == 2_000  # money stays in flight

    counts = withdrawal_payouts.withdrawals_sweep(now=timezone.now() + timedelta(minutes=5))
    withdrawal = refreshed(withdrawal)
    assert counts["submitted"] == 1 and withdrawal.status == W.WAIT_USER_CONFIRM
    assert [r["out_bill_no"] for r in transfers.requests] == [withdrawal.out_bill_no] * 2
    assert withdrawal.attempts == 2


def test_no_answer_at_all_queries_first_on_the_next_attempt_and_never_makes_a_new_number(
    member, finance, transfers, fake_wechat, settings, django_capture_on_commit_callbacks
):
    real_gateway = settings.WECHATPAY_GATEWAY_URL
    settings.WECHATPAY_GATEWAY_URL = CLOSED_PORT_URL  # WeChat unreachable
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    assert withdrawal.status == W.TRANSFERRING and withdrawal.outcome_unknown

    settings.WECHATPAY_GATEWAY_URL = real_gateway
    fake_wechat.calls.clear()
    withdrawal_payouts.withdrawals_sweep(now=timezone.now() + timedelta(minutes=5))
    withdrawal = refreshed(withdrawal)
    assert fake_wechat.calls[0] == (
        "GET",
        f"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{withdrawal.out_bill_no}",
    )
    assert fake_wechat.calls[1] == ("POST", "/v3/fund-app/mch-transfer/transfer-bills")
    assert withdrawal.status == W.WAIT_USER_CONFIRM and not withdrawal.outcome_unknown
    assert {r["out_bill_no"] for r in transfers.requests} == {withdrawal.out_bill_no}


def test_a_definitive_refusal_fails_the_withdrawal_and_returns_the_money(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    transfers.create_failures.append(
        CreateFailure(400, {"code": "INVALID_REQUEST", "message": "收款用户未实名"})
    )
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    assert withdrawal.status == W.FAILED and "INVALID_REQUEST" in withdrawal.fail_reason
    assert ledger.balances(member).available_fen == 100_000
    assert told(member) == ["提现转账失败: ¥20.00 转账未成功，金额已退回可提现余额，可重新申请。"]
    assert_ledger_clean()


def test_a_failed_transfer_notification_returns_the_money(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    headers, body = transfers.fail(withdrawal.out_bill_no, "PAYEE_ACCOUNT_ABNORMAL")
    assert deliver_transfer(headers, body).status_code == 204
    withdrawal = refreshed(withdrawal)
    assert withdrawal.status == W.FAILED and withdrawal.fail_reason == "PAYEE_ACCOUNT_ABNORMAL"
    assert ledger.balances(member).available_fen == 100_000 and ledger.balances(member).withdrawing_fen == 0


def test_an_unconfirmed_transfer_is_cancelled_after_24_hours_and_the_money_returns(
    member, finance, transfers, fake_wechat, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    # before the deadline the sweep only syncs
    assert withdrawal_payouts.withdrawals_sweep(now=timezone.now() + timedelta(hours=23))["expired"] == 0
    assert refreshed(withdrawal).status == W.WAIT_USER_CONFIRM

    counts = withdrawal_payouts.withdrawals_sweep(now=timezone.now() + timedelta(hours=24, minutes=1))
    withdrawal = refreshed(withdrawal)
    assert counts["expired"] == 1 and withdrawal.status == W.EXPIRED
    assert (
        told(member)[-1]
        == "提现超时未确认: ¥20.00 未在规定时间内确认收款，金额已退回可提现余额，可重新申请。"
    )
    assert (
        "POST",
        f"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{withdrawal.out_bill_no}/cancel",
    ) in (fake_wechat.calls)
    assert transfers.bills[withdrawal.out_bill_no]["state"] == "CANCELLED"
    assert ledger.balances(member).available_fen == 100_000
    assert_ledger_clean()


def test_wechat_closing_an_unconfirmed_bill_itself_also_returns_the_money(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    Withdrawal.objects.filter(pk=withdrawal.pk).update(confirm_deadline=timezone.now() - timedelta(seconds=1))
    headers, body = transfers.close_unconfirmed(withdrawal.out_bill_no)
    assert deliver_transfer(headers, body).status_code == 204
    assert refreshed(withdrawal).status == W.EXPIRED
    assert ledger.balances(member).available_fen == 100_000


def test_an_operator_can_cancel_an_unconfirmed_transfer(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    withdrawal_payouts.withdrawal_cancel_transfer(withdrawal=withdrawal, operator=finance)
    assert refreshed(withdrawal).status == W.CANCELLED
    assert AuditLog.objects.filter(action="withdrawal_cancel_transfer", actor=finance).exists()
    assert transfers.bills[withdrawal.out_bill_no]["state"] == "CANCELLED"
    assert ledger.balances(member).available_fen == 100_000


def test_from_2000_yuan_the_real_name_goes_encrypted_to_wechat(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    earn(member, 200_000)
    withdrawal = approve_and_submit(
        request(member, 250_000, real_name="王小明"), finance, django_capture_on_commit_callbacks
    )
    sent = transfers.requests[-1]
    assert sent["user_name"] != "王小明" and len(sent["user_name"]) > 100  # RSA-OAEP ciphertext
    assert transfers.bills[withdrawal.out_bill_no]["user_name"] == "王小明"  # WeChat could decrypt it
    assert withdrawal.status == W.WAIT_USER_CONFIRM


def test_wechat_refuses_a_request_signed_with_the_wrong_key_and_nothing_is_paid_or_returned(
    member, finance, transfers, settings, tmp_path, django_capture_on_commit_callbacks
):
    from payments.gateways import protocol

    wrong = tmp_path / "wrong.pem"
    wrong.write_text(protocol.generate_keypair().private_pem)
    settings.WECHATPAY_PRIVATE_KEY_PATH = str(wrong)
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    assert not transfers.bills and "SIGN_ERROR" in withdrawal.last_error
    assert withdrawal.status == W.TRANSFERRING and withdrawal.outcome_unknown
    assert ledger.balances(member).withdrawing_fen == 2_000


def test_a_notification_with_another_amount_is_refused(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    transfers.confirm(withdrawal.out_bill_no)
    headers, body = transfers.notification(withdrawal.out_bill_no, amount_fen=200_000)
    response = deliver_transfer(headers, body)
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert refreshed(withdrawal).status == W.WAIT_USER_CONFIRM
    assert PaymentNotification.objects.filter(outcome="alert").count() == 1


def test_a_forged_notification_is_rejected(member, finance, transfers, django_capture_on_commit_callbacks):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    headers, body = transfers.confirm(withdrawal.out_bill_no)
    forged = body.replace(b"MCHTRANSFER", b"MCHTRANSFEX")
    assert deliver_transfer(headers, forged).status_code == 401
    assert refreshed(withdrawal).status == W.WAIT_USER_CONFIRM


def test_the_sweep_picks_up_paid_bills_whose_notification_never_came(
    member, finance, transfers, django_capture_on_commit_callbacks
):
    withdrawal = approve_and_submit(request(member, 2_000), finance, django_capture_on_commit_callbacks)
    transfers.confirm(withdrawal.out_bill_no)  # WeChat's notification is lost
    counts = withdrawal_payouts.withdrawals_sweep(now=timezone.now() + timedelta(minutes=10))
    assert counts["synced"] == 1 and refreshed(withdrawal).status == W.PAID
    assert ledger.balances(member).withdrawn_fen == 2_000
