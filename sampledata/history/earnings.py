"""The history's money after the sale: commission earnings through the real ledger services (accrued,
voided on refund, settled when each hold ended) so the ledger stays balanced, then a few promoter
withdrawals through the real withdrawal flow.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, OuterRef, Subquery

from members.models import User
from payments.models import Earning, Order, Withdrawal
from payments.wallet import earnings, ledger, settlement, withdrawal_approval, withdrawals
from referrals.models import Commission


def ledger_follow_up(plan, refunded, now, tag, promoter_users) -> None:
    """Commission earnings through the real ledger (accrue, void on refund, settle), then withdrawals."""
    for c in Commission.objects.filter(
        idempotency_key__startswith="hist:", order__user__username__startswith=f"{tag}_"
    ).select_related("order", "beneficiary"):
        with transaction.atomic():
            earning = earnings.earning_accrue(
                user=c.beneficiary,
                amount_fen=c.amount_fen,
                source=Earning.Source.COMMISSION,
                idempotency_key=f"commission:{c.order.order_no}:1:hist",
                hold_until=c.hold_until,
                order=c.order,
                description=f"推广佣金 {c.order.title}",
            )
            if c.order.order_no in refunded:
                earnings.earning_reverse(
                    earning=earning,
                    amount_fen=c.amount_fen,
                    idempotency_key=f"{earning.idempotency_key}:void",
                )
            Commission.objects.filter(pk=c.pk).update(earning=earning)
    Earning.objects.filter(idempotency_key__endswith=":hist").update(
        created_at=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("paid_at")[:1])
    )
    settlement.settle_due(now=now)
    # Settlement happened when each hold ended (the job runs daily), not all today.
    Earning.objects.filter(idempotency_key__endswith=":hist", status=Earning.Status.SETTLED).update(
        settled_at=F("hold_until")
    )
    _demo_withdrawals(promoter_users)


def _demo_withdrawals(promoter_users) -> None:
    """The two busiest promoters withdraw: one paid by bank transfer, one waiting for finance's review."""
    finance = User.objects.filter(is_superuser=True).order_by("id").first()
    ranked = sorted(
        promoter_users,
        key=lambda u: -sum(e.remaining_fen for e in Earning.objects.filter(user=u, status="settled")),
    )
    for i, promoter in enumerate(ranked[:3]):
        available = ledger.balances(promoter).available_fen
        amount = min(available // 2, 200_000)
        if amount < 100 or finance is None:
            continue
        w = withdrawals.withdrawal_request(
            user=promoter,
            amount_fen=amount,
            method="bank",
            real_name="演示收款人",
            bank_name="招商银行",
            bank_account="6225880000001234",
            request_id=f"hist-{i}",
        )
        if i == 0 and w.status == Withdrawal.Status.PENDING_REVIEW:
            w = withdrawal_approval.withdrawal_approve(withdrawal=w, operator=finance)
            if w.status == Withdrawal.Status.APPROVED:
                withdrawal_approval.withdrawal_mark_paid(
                    withdrawal=w, operator=finance, bank_reference=f"DEMO{promoter.pk:08d}"
                )
