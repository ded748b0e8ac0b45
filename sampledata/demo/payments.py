"""Demo data of payments: the sandbox channel's demo keys, the nightly settlement the personas' month
would have seen, and the demo member's wallet.

Orders themselves are made by people clicking through checkout in the demo (sandbox channel); the apps
that sell things seed what is for sale. `seed_late` runs after the other apps' `seed_late` (the personas'
purchases, made at their moments): it runs the settlement batch at each night the beat would have run it
since (`payments.schedules`), so held commission whose refund window has passed is available, as it
would be, and requests a sandbox withdrawal for the demo member when real earnings allow one. `demo_buy`
lets the other apps' demo data make the personas' purchases through the real order and payment path.
Idempotent: every posting has a fixed idempotency key, and a night already settled has nothing due.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from payments.gateways import sandbox
from payments.models import Earning, Order, PayoutMethod, Withdrawal, WithdrawalSettings
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from payments.schedules import DEFAULT_SCHEDULES
from payments.wallet import earnings, ledger, settlement, withdrawals
from sampledata.demo.clock import at

DEMO_MEMBER = "member"
# Off: earnings without the orders and commissions behind them made the wallet disagree with the
# referral centre. Demo earnings now come from real orders (the personas' purchases, `demo_buy`).
SEED_INVENTED_EARNINGS = False
DEMO_EARNINGS = [
    # key, source, amount (fen), description, settled?
    ("demo:member:commission:1", "commission", 36_000, "演示：推荐好友开通 VIP 的推广佣金", True),
    ("demo:member:tip:1", "tip", 4_500, "演示：圈子帖子《私域运营三板斧》收到打赏", True),
    ("demo:member:qa:1", "qa_fee", 891, "演示：付费问答收入", True),
    (
        "demo:member:commission:2",
        "commission",
        9_900,
        "演示：推荐好友购买课程的推广佣金（退款期内冻结）",
        False,
    ),
]
DEMO_WITHDRAWAL_FEN = 5_000


def seed(*, stdout, history: bool = False) -> None:
    if not settings.PAYMENTS_SANDBOX_ENABLED:
        stdout.write("payments: sandbox disabled, no demo keys")
        return
    directory = sandbox.ensure_sandbox_keys()
    keys = sandbox.sandbox_keys()
    stdout.write(f"payments: sandbox keys in {directory} (public key id {keys.public_key_id})")


def seed_late(*, stdout, history: bool = False) -> None:
    member = get_user_model().objects.filter(username=DEMO_MEMBER).first()
    if member is None:
        stdout.write("payments: no demo member, wallet not seeded")
        return
    WithdrawalSettings.current()
    nights = settle_missed_nights()
    now = timezone.now()
    for key, source, amount, description, settled in DEMO_EARNINGS if SEED_INVENTED_EARNINGS else ():
        earnings.earning_accrue(
            user=member,
            amount_fen=amount,
            source=source,
            idempotency_key=key,
            hold_until=now - timedelta(days=1) if settled else now + timedelta(days=7),
            description=description,
        )
    method = PayoutMethod.SANDBOX if settings.PAYMENTS_SANDBOX_ENABLED else PayoutMethod.BANK
    if not Withdrawal.objects.filter(user=member, request_id="demo-withdrawal-1").exists():
        balances = ledger.balances(member)
        if balances.available_fen >= DEMO_WITHDRAWAL_FEN and balances.owed_fen == 0:
            withdrawals.withdrawal_request(
                user=member,
                amount_fen=DEMO_WITHDRAWAL_FEN,
                method=method,
                real_name="" if method == PayoutMethod.SANDBOX else "体验会员",
                bank_name="" if method == PayoutMethod.SANDBOX else "招商银行",
                bank_account="" if method == PayoutMethod.SANDBOX else "6225880000000001",
                request_id="demo-withdrawal-1",
            )
    stdout.write(f"payments: settlement replayed on {len(nights)} night(s) with held earnings due")
    # Whose wallet has money in the demo: the promoter's, from 林晓雨's orders (not the new member's).
    for person in (
        get_user_model().objects.filter(username__in=[DEMO_MEMBER, "promoter"]).order_by("username")
    ):
        balances = ledger.balances(person)
        if not (balances.available_fen or balances.pending_fen or balances.withdrawing_fen):
            continue
        waiting = Withdrawal.objects.filter(user=person, request_id="demo-withdrawal-1").first()
        stdout.write(
            f"payments: {person.username}'s wallet — available {balances.available_fen / 100:.2f} 元, held "
            f"{balances.pending_fen / 100:.2f} 元, withdrawing {balances.withdrawing_fen / 100:.2f} 元"
            + (
                f"; a withdrawal waits for review ({waiting.get_status_display()}) in /admin/payments/withdrawal/"
                if waiting
                else f"; sign in as {person.username} to withdraw at /payments/wallet/, then approve it in "
                "/admin/payments/withdrawal/"
            )
        )


def settlement_nights(*, since: datetime, until: datetime) -> list[datetime]:
    """When the beat runs the settlement batch (its default schedule, payments.schedules) after `since`,
    up to `until`."""
    job = next(j for j in DEFAULT_SCHEDULES if j.task == "payments.tasks.settle_earnings")
    crontab = job.crontab or {}
    at_time = time(int(crontab.get("hour", 0)), int(crontab.get("minute", 0)))
    day = timezone.localtime(since).date()
    nights: list[datetime] = []
    while True:
        night = datetime.combine(day, at_time, tzinfo=timezone.get_current_timezone())
        if night > until:
            return nights
        if night > since:
            nights.append(night)
        day += timedelta(days=1)


def settle_missed_nights() -> list[datetime]:
    """Run the real settlement batch at each night it would have run since the oldest held earning's hold
    ended: the demo's purchases were made in the past (sampledata/demo/clock.py), and their commission
    became available on the first night after its refund window, not today."""
    now = timezone.now()
    due = Earning.objects.filter(status=Earning.Status.HELD, hold_until__lte=now)
    first = due.order_by("hold_until").values_list("hold_until", flat=True).first()
    if first is None:
        return []
    ran = []
    for night in settlement_nights(since=first, until=now):
        if due.filter(hold_until__lte=night).exists():
            with at(night):
                settlement.settle_due()
            ran.append(night)
    return ran


def demo_buy(*, user, item_type: str, item_id: str, referral_code: str = ""):
    """Buy an item for a demo persona through the real path (order, sandbox payment, signed notification),
    so every page agrees: the order list, the benefit, the promoter's commission. Idempotent per item."""
    paid = Order.objects.filter(
        user=user, item_type=item_type, item_id=str(item_id), status=Order.Status.PAID
    ).first()
    if paid is not None or not settings.PAYMENTS_SANDBOX_ENABLED:
        return paid
    order = order_create(
        user=user, item_type=item_type, item_id=str(item_id), channel="sandbox", referral_code=referral_code
    )
    if order.status == Order.Status.PENDING:
        payment = payment_start(order=order, channel="sandbox")
        sandbox.sandbox_pay(payment.out_trade_no)
        order.refresh_from_db()
    return order
