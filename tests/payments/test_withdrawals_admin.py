"""Operators in admin: accounts and balances, transactions with their entries (read-only), the withdrawal
queue (approve / reject / record a bank transfer — finance only, audited), and the ledger check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from core.models import AuditLog
from core.roles import FINANCE
from payments.models import LedgerCheckRun, Transaction, Withdrawal
from payments.wallet import earnings, ledger, withdrawals
from tests.factories import UserFactory
from tests.payments.ledger_support import assert_ledger_clean, bank_withdrawal, earn, set_limits
from tests.payments.wechat_support import give_openid

pytestmark = pytest.mark.django_db

PAYMENTS_MODELS = (
    "account",
    "transaction",
    "entry",
    "earning",
    "settlementrun",
    "ledgercheckrun",
    "withdrawal",
)


def staff(*, finance: bool, nickname: str):
    """A staff user who may view the ledger in admin; in the finance group only when `finance`."""
    user = UserFactory(is_staff=True, nickname=nickname)
    perms = Permission.objects.filter(
        content_type__app_label="payments",
        codename__in=[f"view_{m}" for m in PAYMENTS_MODELS] + ["change_withdrawal"],
    )
    group_name = FINANCE if finance else "运营"
    group, _created = Group.objects.get_or_create(name=group_name)
    group.permissions.add(*perms)
    user.groups.add(group)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member(db):
    user = UserFactory(nickname="提现会员")
    give_openid(user)
    earn(user, 50_000)
    return user


@pytest.fixture
def finance_a(db):
    return staff(finance=True, nickname="财务甲")


@pytest.fixture
def finance_b(db):
    return staff(finance=True, nickname="财务乙")


def test_ledger_pages_render_read_only(member, finance_a):
    earnings.earning_accrue(
        user=member,
        amount_fen=300,
        source="tip",
        idempotency_key="tip:X",
        hold_until=member.date_joined,
    )
    bank_withdrawal(member, 1_000)
    client = client_for(finance_a)
    txn = Transaction.objects.filter(kind="settle").first()
    for path in (
        "/admin/payments/account/",
        "/admin/payments/account/?user__isempty=1",
        f"/admin/payments/account/{member.ledger_accounts.first().pk}/change/",
        "/admin/payments/transaction/",
        f"/admin/payments/transaction/{txn.pk}/change/",
        "/admin/payments/earning/",
        "/admin/payments/settlementrun/",
        "/admin/payments/ledgercheckrun/",
        "/admin/payments/withdrawal/",
        f"/admin/payments/withdrawal/{Withdrawal.objects.get().pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    system = client.get("/admin/payments/account/?user__isempty=1").content.decode()
    assert "平台（系统科目）" in system and "-¥500.00" in system  # commission_expense, summed from entries
    detail = client.get(f"/admin/payments/transaction/{txn.pk}/change/").content.decode()
    assert "-50,000 分" in detail and "+50,000 分" in detail  # the entries, inline
    queue = client.get("/admin/payments/withdrawal/").content.decode()
    assert "王*" in queue and "王小明" not in queue  # real names masked
    assert client.post(f"/admin/payments/transaction/{txn.pk}/delete/").status_code == 403


def test_finance_approves_from_the_change_page_with_an_audit_row(member, finance_a):
    withdrawal = withdrawals.withdrawal_request(user=member, amount_fen=2_000, method="sandbox")
    client = client_for(finance_a)
    change = client.get(f"/admin/payments/withdrawal/{withdrawal.pk}/change/").content.decode()
    assert f"/admin/payments/withdrawal/{withdrawal.pk}/approve/" in change
    assert "可提现：¥480.00" in change and "提现中：¥20.00" in change  # the member's balances
    assert client.get(f"/admin/payments/withdrawal/{withdrawal.pk}/approve/").status_code == 200
    response = client.post(f"/admin/payments/withdrawal/{withdrawal.pk}/approve/")
    assert response.status_code == 302
    withdrawal.refresh_from_db()
    assert (
        withdrawal.status in ("approved", "wait_user_confirm") and withdrawal.first_approved_by == finance_a
    )
    assert AuditLog.objects.get(action="withdrawal_approve").actor == finance_a


def test_two_finance_operators_approve_a_large_withdrawal_through_the_queue(member, finance_a, finance_b):
    set_limits(dual_approval_threshold_fen=10_000)
    withdrawal = bank_withdrawal(member, 20_000)
    action = {"action": "approve_selected", "_selected_action": [withdrawal.pk]}
    client_for(finance_a).post("/admin/payments/withdrawal/", action)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "pending_review" and withdrawal.approvals == 1
    again = client_for(finance_a).post("/admin/payments/withdrawal/", action, follow=True)
    assert "另一位财务人员复核" in again.content.decode()
    client_for(finance_b).post("/admin/payments/withdrawal/", action)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved" and withdrawal.second_approved_by == finance_b


def test_reject_and_record_a_bank_transfer_through_forms(member, finance_a):
    to_reject = withdrawals.withdrawal_request(user=member, amount_fen=1_000, method="wechat")
    client = client_for(finance_a)
    empty = client.post(f"/admin/payments/withdrawal/{to_reject.pk}/reject/", {"reason": ""})
    assert empty.status_code == 200 and Withdrawal.objects.get(pk=to_reject.pk).status == "pending_review"
    client.post(f"/admin/payments/withdrawal/{to_reject.pk}/reject/", {"reason": "姓名与实名不一致"})
    assert Withdrawal.objects.get(pk=to_reject.pk).status == "rejected"

    bank = bank_withdrawal(member, 3_000)
    early = client.post(f"/admin/payments/withdrawal/{bank.pk}/mark-paid/", {"bank_reference": "CMB1"})
    assert "需先审核通过" in early.content.decode()
    client.post(f"/admin/payments/withdrawal/{bank.pk}/approve/")
    client.post(f"/admin/payments/withdrawal/{bank.pk}/mark-paid/", {"bank_reference": "CMB20261123001"})
    bank.refresh_from_db()
    assert bank.status == "paid" and bank.bank_reference == "CMB20261123001"
    assert set(AuditLog.objects.filter(actor=finance_a).values_list("action", flat=True)) == {
        "withdrawal_reject",
        "withdrawal_approve",
        "withdrawal_mark_paid",
    }
    assert ledger.balances(member).withdrawn_fen == 3_000
    assert_ledger_clean()


def test_staff_outside_finance_cannot_move_money(member):
    operator = staff(finance=False, nickname="运营")
    withdrawal = withdrawals.withdrawal_request(user=member, amount_fen=1_000, method="wechat")
    client = client_for(operator)
    assert client.get("/admin/payments/withdrawal/").status_code == 200  # may look
    assert client.post(f"/admin/payments/withdrawal/{withdrawal.pk}/approve/").status_code == 403
    assert (
        client.post(f"/admin/payments/withdrawal/{withdrawal.pk}/reject/", {"reason": "x"}).status_code == 403
    )
    assert "approve_selected" not in client.get("/admin/payments/withdrawal/").content.decode()
    response = client.post(
        "/admin/payments/withdrawal/", {"action": "approve_selected", "_selected_action": [withdrawal.pk]}
    )
    assert response.status_code in (200, 302)  # the action is not theirs (allowed_permissions): nothing runs
    assert client.post("/admin/payments/ledgercheckrun/run/").status_code == 403
    withdrawal.refresh_from_db()
    assert withdrawal.status == "pending_review" and not AuditLog.objects.exists()


def test_operators_run_the_ledger_check_and_see_the_result(member, finance_a):
    client = client_for(finance_a)
    page = client.get("/admin/payments/ledgercheckrun/").content.decode()
    assert "立即检查账本" in page
    response = client.post("/admin/payments/ledgercheckrun/run/", follow=True)
    assert "账本平衡" in response.content.decode()
    run = LedgerCheckRun.objects.get()
    assert run.ok and run.trigger == "admin" and run.transactions_checked >= 2
