"""The history's referral activity: link visits per promoter, channel and day (with the sign-ups they
brought), the promoters' running link totals, and level-1 commissions on referred orders.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import OuterRef, Subquery

from insights.models import LinkVisitDay
from payments.models import Order
from referrals.models import Commission, ReferralLinkStat
from sampledata.history.bulk import BATCH
from sampledata.history.plan import CHANNELS, pick


def write_visits(rng, plan, promoter_users, today, start_day) -> int:
    per_day: defaultdict[tuple[int, str, date], int] = defaultdict(int)
    for (idx, channel, day), n in plan.signups.items():
        per_day[(idx, channel, day)] += n * rng.randint(3, 9)
    # Some visits on days without sign-ups too.
    for idx in range(len(promoter_users)):
        day = start_day
        while day <= today:
            if rng.random() < 0.25:
                per_day[(idx, pick(rng, CHANNELS), day)] += rng.randint(1, 4)
            day += timedelta(days=1)
    signups = plan.signups
    rows = [
        LinkVisitDay(
            day=day,
            referrer=promoter_users[idx],
            channel=channel,
            visits=v,
            signups=signups.get((idx, channel, day), 0),
        )
        for (idx, channel, day), v in per_day.items()
        if day < today
    ]
    LinkVisitDay.objects.bulk_create(rows, batch_size=BATCH)
    totals: defaultdict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (idx, channel, _day), v in per_day.items():
        totals[(idx, channel)][0] += v
        totals[(idx, channel)][1] += signups.get((idx, channel, _day), 0)
    ReferralLinkStat.objects.bulk_create(
        [
            ReferralLinkStat(user=promoter_users[idx], channel=channel, visits=v, signups=s)
            for (idx, channel), (v, s) in totals.items()
        ],
        batch_size=BATCH,
    )
    return sum(v for v, _s in totals.values())


def write_commissions(plan, refunded, rates, ledger) -> int:
    rows = []
    for o in plan.orders:
        if o.referrer is None:
            continue
        rate = rates.get(o.item_type, 1000)
        amount = o.amount_fen * rate // 10_000
        if amount <= 0:
            continue
        gone = o.order_no in refunded
        rows.append(
            Commission(
                order=o,
                level=1,
                beneficiary=o.referrer,
                buyer=o.user,
                item_type=o.item_type,
                base_fen=o.amount_fen,
                rate_bp=rate,
                amount_fen=amount,
                reversed_fen=amount if gone else 0,
                reward_kind="cash",
                status=Commission.Status.REVERSED if gone else Commission.Status.ACCRUED,
                hold_until=o.paid_at + timedelta(days=7),
                idempotency_key=f"hist:{o.order_no}:1",
            )
        )
    Commission.objects.bulk_create(rows, batch_size=BATCH)
    Commission.objects.filter(idempotency_key__startswith="hist:").update(
        created_at=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("paid_at")[:1])
    )
    return len(rows)
