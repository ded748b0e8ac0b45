"""Months of plausible activity for the demo (`seed_demo --history`) and the dashboard benchmark.

Rows are written through the real models with bulk inserts and explicit timestamps (sign-ups, orders,
payments, refunds, memberships and their grants, bindings, link visits, course progress, camp terms
with check-ins and reviews, circle members, commissions); commission earnings go through the real
ledger services so the ledger stays balanced, and a few withdrawals through the real withdrawal flow.

Idempotent: a second run finds its users (usernames start with the tag) and does nothing.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from circles.models import Circle, CircleMembership, CircleMembershipEvent
from courses.models import Camp, CampTask, CheckIn, Course, Lesson, LessonProgress, Term, TermSeat
from insights.models import LinkVisitDay
from members.models import Membership, MembershipGrant, MembershipTier, User
from payments.models import Earning, Order, Payment, Refund
from referrals.models import Commission, CommissionRule, ReferralBinding, ReferralLinkStat

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "晨",
    "洋",
    "静",
    "磊",
    "敏",
    "婷",
    "杰",
    "芳",
    "强",
    "丽",
    "军",
    "娜",
    "涛",
    "霞",
    "超",
    "琳",
    "鹏",
    "雪",
]
CHANNELS = [("link", 30), ("poster", 25), ("moments", 20), ("chat", 15), ("miniprogram", 10)]
PAY_CHANNELS = [("wechat_miniprogram", 55), ("wechat_jsapi", 25), ("wechat_native", 10), ("wechat_h5", 10)]
BATCH = 2000


@contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the created_at/updated_at values we set (auto_now(_add) off meanwhile)."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _w in weighted], weights=[w for _k, w in weighted])[0]


@dataclass
class _Plan:
    """Everything generated in Python before the bulk inserts."""

    users: list[User] = field(default_factory=list)
    bindings: list[ReferralBinding] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    refunds: list[tuple[Order, datetime]] = field(default_factory=list)
    # per username: [(kind, tier, at, order)] in time order
    membership_events: dict = field(default_factory=lambda: defaultdict(list))
    signups: dict = field(default_factory=lambda: defaultdict(int))  # (promoter idx, channel, date) -> n


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

    plan = _Plan()
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

    def new_order(user, item_type, item_id, title, amount, paid_at, referrer=None, refund_p=0.04):
        seq["order"] += 1
        o = Order(
            order_no=f"{tag.upper()}{seq['order']:011d}",
            user=user,
            item_type=item_type,
            item_id=str(item_id),
            title=title,
            list_price_fen=amount,
            amount_fen=amount,
            status=Order.Status.PAID,
            channel=_pick(rng, PAY_CHANNELS),
            platform="miniprogram",
            referrer=referrer,
            referral_code=referrer.referral_code if referrer else "",
            paid_at=paid_at,
            expires_at=paid_at + timedelta(minutes=28),
            created_at=paid_at - timedelta(minutes=rng.randint(1, 20)),
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
                    channel=_pick(rng, CHANNELS),
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
                channel = _pick(rng, CHANNELS)
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
            ids = dict(Order.objects.filter(order_no__startswith=tag.upper()).values_list("order_no", "id"))
            for o in plan.orders:
                o.pk = o.id = ids[o.order_no]
        payments = [
            Payment(
                order=o,
                channel=o.channel,
                out_trade_no=f"{o.order_no}P",
                transaction_id=f"4200{o.order_no}",
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
                Payment.objects.filter(out_trade_no__startswith=tag.upper()).values_list("out_trade_no", "id")
            )
            for p in payments:
                p.pk = p.id = ids[p.out_trade_no]
        payment_of = {p.order.order_no: p for p in payments}
        Refund.objects.bulk_create(
            [
                Refund(
                    order=o,
                    payment=payment_of[o.order_no],
                    out_refund_no=f"{o.order_no}R",
                    refund_id=f"5030{o.order_no}",
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

        grants = _write_memberships(plan, refunded, tiers, tag)
        visits = _write_visits(rng, plan, promoter_users, today, start_day)
        progress = _write_learning(rng, plan, refunded, now, today, tz, tag, courses, vip_courses, camp)
        _write_circle(rng, plan, refunded, now, circle)
        commissions = _write_commissions(plan, refunded, rates, ledger)
    if ledger:
        _ledger_follow_up(plan, refunded, now, tag, promoter_users)
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


def _write_memberships(plan, refunded, tiers, tag) -> int:
    memberships, grants = [], []
    by_name = {u.username: u for u in plan.users}
    for username, events in plan.membership_events.items():
        user = by_name[username]
        events = sorted(events, key=lambda e: e[2])
        tier = starts = ends = None
        rows = []
        for kind, new_tier, at, order in events:
            if order.order_no in refunded:
                continue  # refunded purchases leave no membership (their grant would be revoked)
            before = (tier, starts, ends)
            days = new_tier.duration_days
            if kind == "renew" and ends is not None and ends > at:
                kind, ends = MembershipGrant.Kind.RENEW, ends + timedelta(days=days)
            elif kind == "upgrade" and ends is not None and ends > at:
                kind, tier, starts, ends = (
                    MembershipGrant.Kind.UPGRADE,
                    new_tier,
                    at,
                    at + timedelta(days=days),
                )
            else:
                kind, tier, starts, ends = MembershipGrant.Kind.START, new_tier, at, at + timedelta(days=days)
            rows.append((kind, before, at, order))
        if not rows:
            continue
        membership = Membership(
            user=user,
            tier=tier,
            starts_at=starts,
            ends_at=ends,
            created_at=rows[0][2],
            updated_at=rows[-1][2],
        )
        memberships.append(membership)
        for kind, (t_before, s_before, e_before), at, order in rows:
            grants.append((membership, kind, t_before, s_before, e_before, at, order))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    if memberships and memberships[0].pk is None:
        ids = dict(
            Membership.objects.filter(user__in=[m.user for m in memberships]).values_list("user_id", "id")
        )
        for m in memberships:
            m.pk = m.id = ids[m.user.pk]
    # Recompute each grant's window after (the running state per membership, in order).
    objs = []
    for membership, kind, t_before, s_before, e_before, at, order in grants:
        t_obj = tiers[order.item_id]
        if kind == MembershipGrant.Kind.RENEW:
            s_after, e_after = s_before, e_before + timedelta(days=t_obj.duration_days)
        else:
            s_after, e_after = at, at + timedelta(days=t_obj.duration_days)
        objs.append(
            MembershipGrant(
                membership=membership,
                user=membership.user,
                order=order,
                kind=kind,
                source=MembershipGrant.Source.PURCHASE,
                tier=t_obj,
                tier_before=t_before,
                starts_before=s_before,
                ends_before=e_before,
                starts_after=s_after,
                ends_after=e_after,
                days=t_obj.duration_days,
                value_fen=order.amount_fen,
                reason=order.title,
                created_at=at,
            )
        )
    MembershipGrant.objects.bulk_create(objs, batch_size=BATCH)
    # Member numbers for everyone who ever held a membership.
    numbered = []
    for n, m in enumerate(memberships, start=1):
        m.user.member_no = f"{m.tier.member_no_prefix}-{tag.upper()}{n:05d}"
        numbered.append(m.user)
    User.objects.bulk_update(numbered, ["member_no"], batch_size=BATCH)
    return len(objs)


def _write_visits(rng, plan, promoter_users, today, start_day) -> int:
    per_day = defaultdict(int)
    for (idx, channel, day), n in plan.signups.items():
        per_day[(idx, channel, day)] += n * rng.randint(3, 9)
    # Some visits on days without sign-ups too.
    for idx in range(len(promoter_users)):
        day = start_day
        while day <= today:
            if rng.random() < 0.25:
                per_day[(idx, _pick(rng, CHANNELS), day)] += rng.randint(1, 4)
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
    totals = defaultdict(lambda: [0, 0])
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


def _write_learning(rng, plan, refunded, now, today, tz, tag, courses, vip_courses, camp) -> int:
    lessons = {
        c.pk: list(Lesson.objects.filter(course=c, is_published=True).order_by("position", "id"))
        for c in courses
    }
    for c in vip_courses:
        lessons.setdefault(
            c.pk, list(Lesson.objects.filter(course=c, is_published=True).order_by("position", "id"))
        )
    learners: list[tuple[User, int, datetime]] = []
    for o in plan.orders:
        if o.order_no in refunded:
            continue
        if o.item_type == "course":
            learners.append((o.user, int(o.item_id), o.paid_at))
        elif o.item_type == "membership" and vip_courses:
            for c in vip_courses:
                if rng.random() < 0.7:
                    learners.append((o.user, c.pk, o.paid_at))
    rows, seen = [], set()
    for user, course_id, since in learners:
        course_lessons = lessons.get(course_id) or []
        if not course_lessons or (user.pk, course_id) in seen:
            continue
        seen.add((user.pk, course_id))
        # Most learners stop early: the well-known low completion of courses.
        reached = min(len(course_lessons), int(rng.expovariate(1 / 1.6)) + 1)
        when = since
        for lesson in course_lessons[:reached]:
            when = when + timedelta(hours=rng.uniform(2, 96))
            done = when < now and (lesson is not course_lessons[reached - 1] or rng.random() < 0.8)
            rows.append(
                LessonProgress(
                    user=user,
                    lesson=lesson,
                    course_id=course_id,
                    position_seconds=lesson.duration_seconds if done else lesson.duration_seconds // 2,
                    completed=done,
                    completed_at=when if done else None,
                )
            )
    LessonProgress.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)

    if camp is None:
        return 0
    tasks = {t.day: t for t in CampTask.objects.filter(camp=camp)}
    if not tasks:
        return 0
    # A term every 4 weeks through the history; the last may still be running.
    first = min((o.paid_at for o in plan.orders if o.item_type == "camp"), default=None)
    if first is None:
        return 0
    term_days = camp.days
    terms, starts = [], timezone.localtime(first).date() + timedelta(days=3)
    n = Term.objects.filter(camp=camp).count()
    while starts <= today:
        n += 1
        terms.append(
            Term(
                camp=camp,
                name=f"第{n}期",  # the tag stays out of what members read
                start_date=starts,
                days=term_days,
                end_date=starts + timedelta(days=term_days - 1),
                created_at=now,
                updated_at=now,
            )
        )
        starts += timedelta(days=28)
    Term.objects.bulk_create(terms)
    if terms and terms[0].pk is None:
        ids = dict(Term.objects.filter(camp=camp, name__in=[t.name for t in terms]).values_list("name", "id"))
        for t in terms:
            t.pk = t.id = ids[t.name]
    seats, seat_users = [], set()
    for o in plan.orders:
        if o.item_type != "camp" or o.order_no in refunded:
            continue
        day = timezone.localtime(o.paid_at).date()
        term = next((t for t in terms if t.start_date >= day - timedelta(days=2)), terms[-1])
        if (term.pk, o.user.pk) in seat_users:
            continue
        seat_users.add((term.pk, o.user.pk))
        seats.append(
            TermSeat(
                term=term,
                user=o.user,
                source="purchase",
                order_no=o.order_no,
                created_at=o.paid_at,
                updated_at=o.paid_at,
            )
        )
    TermSeat.objects.bulk_create(seats, batch_size=BATCH)
    if seats and seats[0].pk is None:
        ids = dict(
            TermSeat.objects.filter(order_no__in=[s.order_no for s in seats]).values_list("order_no", "id")
        )
        for s in seats:
            s.pk = s.id = ids[s.order_no]
    checkins = []
    for s in seats:
        diligence = rng.uniform(0.55, 1.0)
        done_days = 0
        streak = best = 0
        last = None
        for day_no in range(1, s.term.days + 1):
            day = s.term.start_date + timedelta(days=day_no - 1)
            if day > today or day_no not in tasks:
                break
            if rng.random() > diligence * 0.93 * (0.975 ** (day_no - 1)):
                streak = 0
                continue
            created = datetime.combine(day, time(19), tzinfo=tz) + timedelta(minutes=rng.randint(0, 239))
            if created >= now:
                continue
            delay = timedelta(hours=rng.lognormvariate(math.log(5), 0.8))
            # Teachers review nearly everything; the last three days still have a queue.
            recent = created > now - timedelta(days=3)
            reviewed = (
                created + delay if (created + delay < now and (not recent or rng.random() < 0.6)) else None
            )
            checkins.append(
                CheckIn(
                    seat=s,
                    term=s.term,
                    user=s.user,
                    task=tasks[day_no],
                    day=day,
                    text=f"第{day_no}天打卡：完成了「{tasks[day_no].title}」。",
                    status=CheckIn.Status.VISIBLE,
                    points_awarded=camp.points_per_checkin,
                    created_at=created,
                    updated_at=reviewed or created,
                    reviewed_at=reviewed,
                    review_comment="写得很好，继续保持！" if reviewed else "",
                    review_score=rng.randint(3, 5) if reviewed else None,
                )
            )
            done_days += 1
            streak += 1
            best = max(best, streak)
            last = day
        s.checkin_days, s.streak, s.best_streak, s.streak_last_day = done_days, streak, best, last
        s.points = done_days * camp.points_per_checkin
        if s.term.end_date < today and done_days >= (camp.certificate_days or s.term.days):
            s.completed_at = datetime.combine(s.term.end_date, time(23), tzinfo=tz)
    CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    TermSeat.objects.bulk_update(
        seats,
        ["checkin_days", "streak", "best_streak", "streak_last_day", "points", "completed_at"],
        batch_size=BATCH,
    )
    return len(checkins)


def _write_circle(rng, plan, refunded, now, circle) -> None:
    if circle is None:
        return
    members, events = [], []
    for o in plan.orders:
        if o.item_type != "circle" or o.order_no in refunded:
            continue
        if any(m.user is o.user for m in members):
            continue
        m = CircleMembership(
            circle=circle,
            user=o.user,
            role=CircleMembership.Role.MEMBER,
            joined_at=o.paid_at,
            expires_at=o.paid_at + timedelta(days=circle.duration_days),
            accepted_rules_version=circle.rules_version,
            created_at=o.paid_at,
            updated_at=o.paid_at,
        )
        members.append(m)
        events.append((m, CircleMembershipEvent.Kind.JOINED, o.paid_at, o.order_no))
        if rng.random() < 0.1:
            left = o.paid_at + timedelta(days=rng.uniform(3, 60))
            if left < now:
                m.status, m.left_at, m.updated_at = CircleMembership.Status.LEFT, left, left
                events.append((m, CircleMembershipEvent.Kind.LEFT, left, ""))
    CircleMembership.objects.bulk_create(members, batch_size=BATCH)
    if members and members[0].pk is None:
        ids = dict(CircleMembership.objects.filter(circle=circle).values_list("user_id", "id"))
        for m in members:
            m.pk = m.id = ids[m.user.pk]
    CircleMembershipEvent.objects.bulk_create(
        [
            CircleMembershipEvent(membership=m, circle=circle, kind=kind, order_no=order_no, created_at=at)
            for m, kind, at, order_no in events
        ],
        batch_size=BATCH,
    )


def _write_commissions(plan, refunded, rates, ledger) -> int:
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


def _ledger_follow_up(plan, refunded, now, tag, promoter_users) -> None:
    """Commission earnings through the real ledger (accrue, void on refund, settle), then withdrawals."""
    from payments.wallet import earnings, settlement

    for c in Commission.objects.filter(
        idempotency_key__startswith="hist:", order__order_no__startswith=tag.upper()
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
    from payments.models import Withdrawal
    from payments.wallet import ledger, withdrawal_approval, withdrawals

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
