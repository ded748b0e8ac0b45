"""Reads of the earnings wallet, shared by the wallet page and the /api/v1/wallet API (one visibility rule:
a member sees only their own earnings and withdrawals; anything else is a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from payments.models import Earning, Withdrawal, WithdrawalSettings
from payments.wallet import ledger
from payments.wallet.withdrawals import REAL_NAME_FROM_FEN, local_day_start, payout_methods


def earnings_for_user(user: Any) -> QuerySet[Earning]:
    return Earning.objects.filter(user_id=user.pk).select_related("order").order_by("-id")


def withdrawals_for_user(user: Any) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(user_id=user.pk).order_by("-id")


def withdrawal_get_for_user(*, user: Any, withdrawal_id: int | str) -> Withdrawal:
    """The withdrawal if it is this member's; 404 otherwise (never leak existence)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    try:
        pk = int(withdrawal_id)
    except (TypeError, ValueError):
        raise Http404 from None
    withdrawal = Withdrawal.objects.filter(user_id=user.pk, pk=pk).first()
    if withdrawal is None:
        raise Http404
    return withdrawal


@dataclass(frozen=True)
class WalletSummary:
    balances: ledger.Balances
    min_amount_fen: int
    max_amount_fen: int
    daily_count_limit: int
    withdrawals_left_today: int
    real_name_required_from_fen: int
    methods: list[str]

    @property
    def can_withdraw(self) -> bool:
        b = self.balances
        return b.owed_fen == 0 and b.available_fen >= self.min_amount_fen and self.withdrawals_left_today > 0


def wallet_summary(user: Any) -> WalletSummary:
    conf = WithdrawalSettings.current()
    used_today = (
        Withdrawal.objects.filter(user_id=user.pk, created_at__gte=local_day_start(timezone.now()))
        .exclude(status=Withdrawal.Status.CANCELLED)
        .count()
    )
    return WalletSummary(
        balances=ledger.balances(user),
        min_amount_fen=conf.min_amount_fen,
        max_amount_fen=conf.max_amount_fen,
        daily_count_limit=conf.daily_count_limit,
        withdrawals_left_today=max(0, conf.daily_count_limit - used_today),
        real_name_required_from_fen=REAL_NAME_FROM_FEN,
        methods=payout_methods(),
    )
