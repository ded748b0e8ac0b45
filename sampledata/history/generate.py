"""Months of plausible activity for the demo (`seed_demo --history`) and the dashboard benchmark: the
entry point `generate`, the plan it draws, and the writes of users, bindings, orders, payments and refunds.

Rows are written through the real models with bulk inserts and explicit timestamps (sign-ups, orders,
payments, refunds, memberships and their grants, bindings, link visits, course progress, camp terms
with check-ins and reviews, circle members, commissions); commission earnings go through the real
ledger services so the ledger stays balanced, and a few withdrawals through the real withdrawal flow.

Idempotent: a second run finds its users (usernames start with the tag) and does nothing.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from circles.models import Circle, CircleMembership, CircleMembershipEvent
from courses.models import Camp, CheckIn, Course, Term, TermSeat
from members.models import Membership, MembershipGrant, MembershipTier, User
from payments.models import Order, Payment, Refund
from payments.orders.checkout import order_no_at, order_ttl
from referrals.models import CommissionRule, ReferralBinding
from sampledata.history.bulk import BATCH, explicit_timestamps
from sampledata.history.circles import write_circle
from sampledata.history.earnings import ledger_follow_up
from sampledata.history.learning import write_learning
from sampledata.history.memberships import write_memberships
from sampledata.history.plan import CHANNELS, GIVEN, PAY_CHANNELS, SURNAMES, HistoryPlan, pick
from sampledata.history.referrals import write_commissions, write_visits


def generate(
    *,
    stdout=None,
    days: int = 150,
    daily_signups: tuple[int, int] = (8, 22),
    promoters: int = 12,
    tag: str = "h",
    seed: int = 20261122,
    ledger: bool = True,
    now: datetime | None = None,
) -> dict[str, int]:
    """Generate `days` of history ending now. Returns counts of what was written (empty if it existed)."""
    write = (lambda msg: stdout.write(msg)) if stdout is not None else (lambda msg: None)
    if User.objects.filter(username__startswith=f"{tag}_u").exists():
        write(f"insights: history '{tag}' already present, nothing added")
        return {}
    tiers = {t.code: t for t in MembershipTier.objects.all()}
    if "VIP" not in tiers:
        write("insights: no VIP tier, no history")
        return {}
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_default_timezone()
    start_day = today - timedelta(days=days - 1)

    courses = list(Course.objects.filter(is_published=True, price_fen__gt=0)) or list(Course.objects.all())
    vip_courses = list(Course.objects.filter(included_in_tiers=tiers["VIP"])) if "VIP" in tiers else []
    camp = Camp.objects.filter(is_published=True).order_by("id").first()
    circle = Circle.objects.order_by("id").first()
    rates = {
        r.item_type: r.rate_bp
        for r in CommissionRule.objects.filter(level=1, item_id="", promoter_level=None)
    }

    def moment(day, hour_from=8, hour_to=23) -> datetime:
        seconds = rng.randint(hour_from * 3600, hour_to * 3600 - 1)
        return datetime.combine(day, time.min, tzinfo=tz) + timedelta(seconds=seconds)

    def name() -> str:
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.4 else "")

    plan = HistoryPlan()
    seq = {"user": 0, "order": 0}

    def new_user(joined: datetime, prefix: str = "u") -> User:
        seq["user"] += 1
        u = User(
            username=f"{tag}_{prefix}{seq['user']:06d}",
            nickname=name(),
            date_joined=joined,
            password="!",  # unusable: demo history users never log in
        )
        plan.users.append(u)
        return u

    order_nos: set[str] = set()

    def new_order_no(created_at: datetime) -> str:
        """The number a real order created then gets (payments.orders.checkout.order_no_at)."""
        while True:
            number = order_no_at(created_at, serial=rng.randrange(10**6))
            if number not in order_nos:
                order_nos.add(number)
                return number

    def new_order(user, item_type, item_id, title, amount, paid_at, referrer=None, refund_p=0.04):
        seq["order"] += 1
        created_at = paid_at - timedelta(minutes=rng.randint(1, 20))
        o = Order(
            order_no=new_order_no(created_at),
            user=user,
            item_type=item_type,
            item_id=str(item_id),
            title=title,
            list_price_fen=amount,
            amount_fen=amount,
            status=Order.Status.PAID,
            channel=pick(rng, PAY_CHANNELS),
            platform="miniprogram",
            referrer=referrer,
            referral_code=referrer.referral_code if referrer else "",
            paid_at=paid_at,
            expires_at=created_at + order_ttl(),
            created_at=created_at,
            updated_at=paid_at,
        )
        plan.orders.append(o)
        refunded_at = paid_at + timedelta(days=rng.uniform(0.2, 5))
        if rng.random() < refund_p and refunded_at < now:
            plan.refunds.append((o, refunded_at))
        return o

    # -- promoters -------------------------------------------------------------------------------------
    promoter_users = [new_user(now - timedelta(days=days + 260), prefix="p") for _ in range(promoters)]
    promoter_weights = [1 / (i + 1) ** 0.8 for i in range(promoters)]
    fraud = promoters // 2 if promoters >= 4 else None  # one promoter whose buyers often refund

    def refund_chance(referrer_idx):
        return 0.35 if referrer_idx is not None and referrer_idx == fraud else 0.04

    vip, ka = tiers["VIP"], tiers.get("KA")

    # -- a legacy cohort of VIP members who joined about a year ago (their renewals fall due now) ------
    for _ in range(max(10, int(days * 0.7))):
        started = now - timedelta(days=rng.uniform(335, 420))
        u = new_user(started - timedelta(days=rng.uniform(0, 20)))
        if rng.random() < 0.5:
            idx = rng.choices(range(promoters), weights=promoter_weights)[0]
            plan.bindings.append(
                ReferralBinding(
                    user=u,
                    referrer=promoter_users[idx],
                    code=promoter_users[idx].referral_code,
                    channel=pick(rng, CHANNELS),
                    source=ReferralBinding.Source.SIGNUP,
                    bound_at=u.date_joined,
                    protected_until=u.date_joined + timedelta(days=30),
                )
            )
        o = new_order(u, "membership", "VIP", f"开通{vip.name}", vip.price_fen, started, refund_p=0)
        plan.membership_events[u.username].append(("start", vip, started, o))
        ends = started + timedelta(days=vip.duration_days)
        roll = rng.random()
        if roll < 0.55:
            when = ends - timedelta(days=rng.uniform(0, 25))
            if when < now:
                r = new_order(
                    u, "membership", "VIP", f"续费{vip.name}", vip.price_fen * 9 // 10, when, refund_p=0
                )
                plan.membership_events[u.username].append(("renew", vip, when, r))
        elif roll < 0.59 and ka is not None:
            when = ends - timedelta(days=rng.uniform(5, 60))
            if when < now:
                amount = max(ka.price_fen - vip.price_fen // 4, 1)
                r = new_order(u, "membership", "KA", f"升级为{ka.name}", amount, when, refund_p=0)
                plan.membership_events[u.username].append(("upgrade", ka, when, r))
        elif roll < 0.71:
            when = ends + timedelta(days=rng.uniform(3, 25))
            if when < now:
                r = new_order(u, "membership", "VIP", f"开通{vip.name}", vip.price_fen, when, refund_p=0)
                plan.membership_events[u.username].append(("start", vip, when, r))

    # -- daily sign-ups, purchases, repurchases, upgrades ---------------------------------------------
    low, high = daily_signups
    paid_users: list[tuple[User, int | None]] = []
    for d in range(days):
        day = start_day + timedelta(days=d)
        trend = low + (high - low) * d / max(days - 1, 1)
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        wave = 1 + 0.15 * math.sin(d / 9)
        for _ in range(max(0, int(rng.gauss(trend * weekend * wave, 2)))):
            joined = moment(day)
            if joined >= now:
                continue
            u = new_user(joined)
            referrer_idx = None
            if rng.random() < 0.55:
                referrer_idx = rng.choices(range(promoters), weights=promoter_weights)[0]
                channel = pick(rng, CHANNELS)
                plan.bindings.append(
                    ReferralBinding(
                        user=u,
                        referrer=promoter_users[referrer_idx],
                        code=promoter_users[referrer_idx].referral_code,
                        channel=channel,
                        source=ReferralBinding.Source.SIGNUP,
                        bound_at=joined,
                        expires_at=joined + timedelta(days=365),
                        protected_until=joined + timedelta(days=30),
                    )
                )
                plan.signups[(referrer_idx, channel, day)] += 1
            convert = 0.24 if referrer_idx is not None else 0.11
            if rng.random() >= convert:
                continue
            paid_at = joined + timedelta(days=rng.expovariate(1 / 3))
            if paid_at >= now:
                continue
            referrer = promoter_users[referrer_idx] if referrer_idx is not None else None
            _buy(
                rng,
                new_order,
                plan,
                u,
                paid_at,
                referrer,
                refund_chance(referrer_idx),
                tiers,
                courses,
                camp,
                circle,
            )
            paid_users.append((u, referrer_idx))
            if rng.random() < 0.25:  # a second purchase
                again = paid_at + timedelta(days=rng.expovariate(1 / 20))
                if again < now:
                    _buy(
                        rng,
                        new_order,
                        plan,
                        u,
                        again,
                        referrer,
                        refund_chance(referrer_idx),
                        tiers,
                        courses,
                        camp,
                        circle,
                        membership=False,
                    )
            if ka is not None and plan.membership_events.get(u.username) and rng.random() < 0.03:
                when = paid_at + timedelta(days=rng.uniform(10, 60))
                if when < now:
                    amount = max(ka.price_fen - vip.price_fen // 2, 1)
                    o = new_order(u, "membership", "KA", f"升级为{ka.name}", amount, when, referrer, 0)
                    plan.membership_events[u.username].append(("upgrade", ka, when, o))

    counts = _write(
        rng=rng,
        plan=plan,
        now=now,
        today=today,
        tz=tz,
        tag=tag,
        tiers=tiers,
        promoter_users=promoter_users,
        courses=courses,
        vip_courses=vip_courses,
        camp=camp,
        circle=circle,
        rates=rates,
        ledger=ledger,
        start_day=start_day,
    )
    write(
        "insights: history of {days} days — {users} users, {orders} orders ({refunds} refunded), {grants} "
        "membership grants, {checkins} check-ins, {commissions} commissions".format(days=days, **counts)
    )
    return counts


def _buy(rng, new_order, plan, u, paid_at, referrer, refund_p, tiers, courses, camp, circle, membership=True):
    vip, ka = tiers["VIP"], tiers.get("KA")
    roll = rng.random()
    if membership and roll < 0.42 and not plan.membership_events.get(u.username):
        tier = ka if (ka is not None and rng.random() < 0.04) else vip
        o = new_order(
            u, "membership", tier.code, f"开通{tier.name}", tier.price_fen, paid_at, referrer, refund_p
        )
        plan.membership_events[u.username].append(("start", tier, paid_at, o))
    elif roll < 0.72 and courses:
        c = rng.choice(courses)
        new_order(u, "course", c.pk, c.title, max(c.price_fen, 9_900), paid_at, referrer, refund_p)
    elif roll < 0.88 and camp is not None:
        new_order(u, "camp", camp.pk, camp.title, max(camp.price_fen, 19_900), paid_at, referrer, refund_p)
    elif circle is not None:
        new_order(
            u, "circle", circle.pk, circle.name, max(circle.price_fen, 19_900), paid_at, referrer, refund_p
        )
    elif courses:
        c = courses[0]
        new_order(u, "course", c.pk, c.title, max(c.price_fen, 9_900), paid_at, referrer, refund_p)


def _write(
    *,
    rng,
    plan,
    now,
    today,
    tz,
    tag,
    tiers,
    promoter_users,
    courses,
    vip_courses,
    camp,
    circle,
    rates,
    ledger,
    start_day,
) -> dict[str, int]:
    with (
        transaction.atomic(),
        explicit_timestamps(
            Order,
            Payment,
            Refund,
            MembershipGrant,
            Membership,
            CheckIn,
            CircleMembershipEvent,
            CircleMembership,
            TermSeat,
            Term,
        ),
    ):
        User.objects.bulk_create(plan.users, batch_size=BATCH)
        # bulk_create returns ids on PostgreSQL and SQLite ≥ 3.35; reload to be sure on older SQLite.
        if plan.users and plan.users[0].pk is None:
            ids = dict(User.objects.filter(username__startswith=f"{tag}_").values_list("username", "id"))
            for u in plan.users:
                u.pk = u.id = ids[u.username]
        ReferralBinding.objects.bulk_create(plan.bindings, batch_size=BATCH)

        refunded = {o.order_no: at for o, at in plan.refunds}
        for o in plan.orders:
            if o.order_no in refunded:
                o.status, o.refunded_fen, o.updated_at = (
                    Order.Status.REFUNDED,
                    o.amount_fen,
                    refunded[o.order_no],
                )
        Order.objects.bulk_create(plan.orders, batch_size=BATCH)
        if plan.orders and plan.orders[0].pk is None:
            ids = dict(
                Order.objects.filter(user__username__startswith=f"{tag}_").values_list("order_no", "id")
            )
            for o in plan.orders:
                o.pk = o.id = ids[o.order_no]
        # The numbers real attempts and refunds get (payments.orders.payment_attempts, .refunds): the
        # order's number and six hex digits; WeChat's own ids are 4200… and 5030… followed by digits.
        payments = [
            Payment(
                order=o,
                channel=o.channel,
                out_trade_no=f"{o.order_no}{rng.randrange(16**6):06X}",
                transaction_id=f"4200{rng.randrange(10**6):06d}{o.order_no[:8]}{rng.randrange(10**10):010d}",
                amount_fen=o.amount_fen,
                status=Payment.Status.SUCCEEDED,
                paid_at=o.paid_at,
                created_at=o.created_at,
                updated_at=o.paid_at,
            )
            for o in plan.orders
        ]
        Payment.objects.bulk_create(payments, batch_size=BATCH)
        if payments and payments[0].pk is None:
            ids = dict(
                Payment.objects.filter(order__user__username__startswith=f"{tag}_").values_list(
                    "out_trade_no", "id"
                )
            )
            for p in payments:
                p.pk = p.id = ids[p.out_trade_no]
        payment_of = {p.order.order_no: p for p in payments}
        Refund.objects.bulk_create(
            [
                Refund(
                    order=o,
                    payment=payment_of[o.order_no],
                    out_refund_no=f"R{o.order_no}{rng.randrange(16**6):06X}",
                    refund_id=f"5030{rng.randrange(10**6):06d}{o.order_no[:8]}{rng.randrange(10**10):010d}",
                    amount_fen=o.amount_fen,
                    reason="不想要了",
                    kind=Refund.Kind.SELF_SERVICE,
                    status=Refund.Status.SUCCEEDED,
                    created_at=at,
                    completed_at=at + timedelta(minutes=3),
                )
                for o, at in plan.refunds
            ],
            batch_size=BATCH,
        )

        grants = write_memberships(plan, refunded, tiers, tag)
        visits = write_visits(rng, plan, promoter_users, today, start_day)
        progress = write_learning(rng, plan, refunded, now, today, tz, tag, courses, vip_courses, camp)
        write_circle(rng, plan, refunded, now, circle)
        commissions = write_commissions(plan, refunded, rates, ledger)
    if ledger:
        ledger_follow_up(plan, refunded, now, tag, promoter_users)
    # A bulk load leaves the planner's statistics stale (it would plan for empty tables) until
    # autovacuum comes round: refresh them now.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "users": len(plan.users),
        "orders": len(plan.orders),
        "refunds": len(plan.refunds),
        "grants": grants,
        "visits": visits,
        "checkins": progress,
        "commissions": commissions,
    }
