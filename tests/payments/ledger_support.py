"""Helpers and fixtures of the ledger, withdrawal and wallet tests (import the fixtures you use)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from core.roles import FINANCE
from payments.gateways import protocol
from payments.models import Earning, Withdrawal, WithdrawalSettings
from payments.wallet import earnings, ledger_check, settlement, withdrawals
from tests.factories import UserFactory
from tests.fakes import wechat_transfers

TRANSFER_NOTIFY_PATH = "/payments/wechatpay/transfer-notify/"
_keys = itertools.count(1)


def earn(
    user, amount_fen: int, *, settle: bool = True, source: str = "commission", order=None, key: str = ""
) -> Earning:
    """Give a member an earning through the real services; settled (available) unless settle=False."""
    earning = earnings.earning_accrue(
        user=user,
        amount_fen=amount_fen,
        source=source,
        idempotency_key=key or f"test-earning-{next(_keys)}",
        hold_until=timezone.now() - timedelta(seconds=1) if settle else timezone.now() + timedelta(days=7),
        order=order,
        description="测试收益",
    )
    if settle:
        settlement.settle_due()
        earning.refresh_from_db()
    return earning


def finance_user(**kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    group, _created = Group.objects.get_or_create(name=FINANCE)
    user.groups.add(group)
    return user


def bank_withdrawal(user, amount_fen: int) -> Withdrawal:
    """A bank-transfer withdrawal request with a valid payee (the operators' manual-transfer path)."""
    return withdrawals.withdrawal_request(
        user=user,
        amount_fen=amount_fen,
        method="bank",
        real_name="王小明",
        bank_name="招商银行",
        bank_account="6225880123456789",
    )


def set_limits(**values) -> WithdrawalSettings:
    conf = WithdrawalSettings.current()
    for name, value in values.items():
        setattr(conf, name, value)
    conf.save()
    return conf


def deliver_transfer(headers: dict[str, str], body: bytes, client: Client | None = None):
    """POST a 商家转账 notification as WeChat would (raw body, Wechatpay-* headers)."""
    return (client or Client()).post(
        TRANSFER_NOTIFY_PATH,
        data=body,
        content_type="application/json",
        **protocol.django_meta_headers(headers),
    )


def assert_ledger_clean() -> None:
    result = ledger_check.ledger_check()
    assert result.ok, result.problems


def refreshed(withdrawal: Withdrawal) -> Withdrawal:
    withdrawal.refresh_from_db()
    return withdrawal


@pytest.fixture
def transfers(fake_wechat) -> wechat_transfers.FakeTransfers:
    """The fake WeChat with the 商家转账 routes installed."""
    return wechat_transfers.install(fake_wechat)


@pytest.fixture
def finance(db):
    return finance_user(nickname="财务甲")


@pytest.fixture
def finance2(db):
    return finance_user(nickname="财务乙")
