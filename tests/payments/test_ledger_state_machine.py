"""Hypothesis stateful test of the ledger: random sequences of accrue, void/clawback, settle, deduct,
withdraw and payout (success, failure, 24-hour expiry, rejection, cancellation), with duplicate calls
mixed in. After every step: every transaction sums to zero, every cached balance equals its entries,
available never goes negative, each member's balances match an independent model, and no idempotency
key was applied twice.

Each example runs inside a transaction that is rolled back afterwards, so examples are independent
and the database stays small. `LEDGER_MACHINE_EXAMPLES` (default 200) sets how many sequences run.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from core.errors import ApplicationError
from payments.gateways.sandbox import sandbox_finish_transfer
from payments.models import Earning, Transaction, Withdrawal
from payments.wallet import (
    earnings,
    ledger,
    ledger_check,
    settlement,
    withdrawal_approval,
    withdrawal_payouts,
    withdrawals,
)
from tests.factories import UserFactory
from tests.payments.ledger_support import finance_user, set_limits

pytestmark = pytest.mark.slow  # a long gate: `make test` runs it, `make test-fast` does not

EXAMPLES = int(os.environ.get("LEDGER_MACHINE_EXAMPLES", "200"))
SOURCES = ["commission", "commission_l2", "tip", "qa_fee", "staff_share", "group_buy_bonus"]
_unique = itertools.count(1)


@dataclass
class MemberModel:
    pending: int = 0
    available: int = 0
    withdrawing: int = 0
    withdrawn: int = 0
    receivable: int = 0

    def take(self, amount: int) -> None:
        """A debit: available first, the rest from receivable."""
        taken = min(amount, self.available)
        self.available -= taken
        self.receivable -= amount - taken

    def credit(self, amount: int) -> None:
        """A credit: owed money is repaid first, the rest becomes available."""
        repay = min(amount, -self.receivable)
        self.receivable += repay
        self.available += amount - repay


@dataclass
class EarningModel:
    user: int
    amount: int
    hold_until: object
    reversed: int = 0
    status: str = "held"


@dataclass
class Expected:
    kinds: Counter = field(default_factory=Counter)


class LedgerMachine(RuleBasedStateMachine):
    earning_rows = Bundle("earnings")
    requests = Bundle("withdrawals")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        set_limits(daily_count_limit=10_000)
        self.users = [UserFactory(), UserFactory()]
        self.operator = finance_user()
        self.model = {u.pk: MemberModel() for u in self.users}
        self.earning_model: dict[int, EarningModel] = {}
        self.expected = Expected()
        self.clock = timezone.now()

    def _start_with_settled_money(self, who: int):
        """Each member starts with ¥100 settled, so payouts and clawbacks are explored from step one."""
        user = self.users[who]
        key = f"start-{next(_unique)}"
        earning = earnings.earning_accrue(
            user=user, amount_fen=10_000, source="commission", idempotency_key=key, hold_until=self.clock
        )
        settlement.settle_due(now=self.clock)
        self.earning_model[earning.pk] = EarningModel(
            user=user.pk, amount=10_000, hold_until=self.clock, status="settled"
        )
        self.model[user.pk].available += 10_000
        self.expected.kinds["accrue"] += 1
        return (earning.pk, key)

    @initialize(target=earning_rows)
    def first_member_starts_with_money(self):
        return self._start_with_settled_money(0)

    @initialize(target=earning_rows)
    def second_member_starts_with_money(self):
        return self._start_with_settled_money(1)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # ---- earnings --------------------------------------------------------------------------------------
    @rule(
        target=earning_rows,
        who=st.integers(0, 1),
        amount=st.integers(1, 5_000),
        hold_hours=st.integers(-2, 72),
        source=st.sampled_from(SOURCES),
    )
    def accrue(self, who, amount, hold_hours, source):
        user = self.users[who]
        key = f"m-{next(_unique)}"
        hold = self.clock + timedelta(hours=hold_hours)
        earning = earnings.earning_accrue(
            user=user, amount_fen=amount, source=source, idempotency_key=key, hold_until=hold
        )
        self.earning_model[earning.pk] = EarningModel(user=user.pk, amount=amount, hold_until=hold)
        self.model[user.pk].pending += amount
        self.expected.kinds["accrue"] += 1
        return (earning.pk, key)

    @rule(earning=earning_rows)
    def accrue_again_with_the_same_key(self, earning):
        pk, key = earning
        em = self.earning_model[pk]
        again = earnings.earning_accrue(
            user=self.users[0] if em.user == self.users[0].pk else self.users[1],
            amount_fen=em.amount,
            source="commission",
            idempotency_key=key,
            hold_until=em.hold_until,
        )
        assert again.pk == pk

    @rule(earning=earning_rows, percent=st.integers(1, 100), replay=st.booleans())
    def reverse(self, earning, percent, replay):
        pk, _key = earning
        em = self.earning_model[pk]
        remaining = em.amount - em.reversed
        amount = max(1, remaining * percent // 100)
        key = f"r-{next(_unique)}"
        instance = Earning.objects.get(pk=pk)
        if remaining == 0:
            with pytest.raises(ApplicationError):
                earnings.earning_reverse(earning=instance, amount_fen=amount, idempotency_key=key)
            return
        earnings.earning_reverse(earning=instance, amount_fen=amount, idempotency_key=key)
        member = self.model[em.user]
        if em.status == "held":
            member.pending -= amount
            self.expected.kinds["void"] += 1
            event("reverse: void")
        else:
            member.take(amount)
            self.expected.kinds["clawback"] += 1
            event("reverse: clawback" + (" into debt" if member.receivable < 0 else ""))
        em.reversed += amount
        if em.reversed == em.amount:
            em.status = "voided" if em.status == "held" else "clawed_back"
        if replay:  # the same refund delivered again: nothing happens
            earnings.earning_reverse(earning=instance, amount_fen=amount, idempotency_key=key)

    @rule(hours=st.integers(0, 48), batch_size=st.integers(1, 4), method=st.sampled_from(["sql", "orm"]))
    def settle(self, hours, batch_size, method):
        self.clock += timedelta(hours=hours)
        due: dict[int, int] = Counter()
        for em in self.earning_model.values():
            if em.status == "held" and em.hold_until <= self.clock:
                due[em.user] += em.amount - em.reversed
                em.status = "settled"
        run = settlement.settle_due(now=self.clock, batch_size=batch_size, method=method)
        assert run.amount_fen == sum(due.values())
        for user_id, total in due.items():
            self.model[user_id].pending -= total
            self.model[user_id].credit(total)
        if run.earnings_count:
            assert run.earnings_count == Earning.objects.filter(settled_run=run).count()
        again = settlement.settle_due(now=self.clock, batch_size=batch_size, method=method)
        assert again.earnings_count == 0

    @rule(who=st.integers(0, 1), amount=st.integers(1, 800), replay=st.booleans())
    def deduct(self, who, amount, replay):
        user = self.users[who]
        key = f"d-{next(_unique)}"
        earnings.earning_deduct(user=user, amount_fen=amount, idempotency_key=key)
        if replay:
            earnings.earning_deduct(user=user, amount_fen=amount, idempotency_key=key)
        self.model[user.pk].take(amount)
        self.expected.kinds["deduct"] += 1

    # ---- withdrawals -------------------------------------------------------------------------------------
    @rule(target=requests, who=st.integers(0, 1), percent=st.integers(1, 110), small=st.integers(0, 4))
    def withdraw(self, who, percent, small):
        user = self.users[who]
        member = self.model[user.pk]
        # mostly a share of what is available (so payouts happen), sometimes tiny or too much
        amount = max(1, percent if small == 0 else member.available * percent // 100)
        if amount < 100:
            expected_error = "below_minimum"
        elif member.receivable < 0:
            expected_error = "withdrawal_blocked_owed"
        elif amount > member.available:
            expected_error = "insufficient_balance"
        else:
            expected_error = ""
        event(f"withdraw: {expected_error or 'accepted'}")
        if expected_error:
            with pytest.raises(ApplicationError) as exc:
                withdrawals.withdrawal_request(user=user, amount_fen=amount, method="sandbox")
            assert exc.value.code == expected_error
            return multiple()
        withdrawal = withdrawals.withdrawal_request(user=user, amount_fen=amount, method="sandbox")
        member.available -= amount
        member.withdrawing += amount
        self.expected.kinds["withdraw"] += 1
        return withdrawal.pk

    @rule(
        request=consumes(requests),
        outcome=st.sampled_from(["success", "failure", "expiry", "reject", "cancel"]),
        duplicate=st.booleans(),
    )
    def finish(self, request, outcome, duplicate):
        withdrawal = Withdrawal.objects.get(pk=request)
        assert withdrawal.status == Withdrawal.Status.PENDING_REVIEW  # consumed: finished only here
        member = self.model[withdrawal.user_id]
        amount = withdrawal.amount_fen
        if outcome == "reject":
            withdrawal_approval.withdrawal_reject(
                withdrawal=withdrawal, operator=self.operator, reason="核实中"
            )
        elif outcome == "cancel":
            withdrawals.withdrawal_cancel(withdrawal=withdrawal, user=withdrawal.user)
        else:
            withdrawal_approval.withdrawal_approve(withdrawal=withdrawal, operator=self.operator)
            withdrawal_payouts.withdrawal_submit(withdrawal_id=withdrawal.pk)  # what the on_commit task does
            if duplicate:
                withdrawal_payouts.withdrawal_submit(withdrawal_id=withdrawal.pk)
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.WAIT_USER_CONFIRM
            if outcome == "success":
                assert sandbox_finish_transfer(withdrawal.out_bill_no) == 204
            elif outcome == "failure":
                assert sandbox_finish_transfer(withdrawal.out_bill_no, state="FAIL", fail_reason="X") == 204
            else:
                Withdrawal.objects.filter(pk=withdrawal.pk).update(
                    confirm_deadline=timezone.now() - timedelta(seconds=1)
                )
                withdrawal_payouts.withdrawals_sweep()
        if duplicate and outcome in ("success", "failure"):
            sandbox_finish_transfer(withdrawal.out_bill_no)  # WeChat notifies again
        if duplicate and outcome in ("reject", "cancel"):
            with pytest.raises(ApplicationError):
                withdrawal_approval.withdrawal_reject(
                    withdrawal=withdrawal, operator=self.operator, reason="again"
                )
        withdrawal.refresh_from_db()
        expected_status = {
            "success": "paid",
            "failure": "failed",
            "expiry": "expired",
            "reject": "rejected",
            "cancel": "cancelled",
        }[outcome]
        assert withdrawal.status == expected_status
        event(
            f"finish: {outcome}"
            + (" repaying debt" if member.receivable < 0 and outcome != "success" else "")
        )
        member.withdrawing -= amount
        if outcome == "success":
            member.withdrawn += amount
            self.expected.kinds["payout"] += 1
        else:
            member.credit(amount)
            self.expected.kinds["payout_return"] += 1

    # ---- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def ledger_balances_to_the_fen(self):
        result = ledger_check.ledger_check()
        assert result.ok, result.problems

    @invariant()
    def balances_match_the_model_and_available_is_never_negative(self):
        for user in self.users:
            b = ledger.balances(user)
            m = self.model[user.pk]
            assert b.available_fen >= 0 and b.pending_fen >= 0 and b.receivable_fen <= 0
            assert (b.pending_fen, b.available_fen, b.withdrawing_fen, b.withdrawn_fen, b.receivable_fen) == (
                m.pending,
                m.available,
                m.withdrawing,
                m.withdrawn,
                m.receivable,
            ), user.pk

    @invariant()
    def no_idempotency_key_is_applied_twice(self):
        kinds = Counter(Transaction.objects.exclude(kind="settle").values_list("kind", flat=True))
        assert kinds == +self.expected.kinds
        settled = Earning.objects.filter(status__in=["settled", "clawed_back"])
        assert settled.filter(settled_run__isnull=True).count() == 0


@pytest.mark.django_db
def test_random_sequences_of_ledger_operations_keep_every_invariant():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        ),
    )
