"""Rows with explicit timestamps for the metric tests (the dashboard reads history; services write "now").

Each builder writes the row the domain service would have written, then sets the auto timestamps
(`created_at`, `completed_at` …) to the moment the scenario needs with an UPDATE.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.utils import timezone

from circles.models import Circle, CircleMembership, CircleMembershipEvent
from courses.models import Camp, CampTask, CheckIn, Course, Lesson, LessonProgress, Term, TermSeat
from insights.models import LinkVisitDay
from members.models import Membership, MembershipGrant, MembershipTier, User
from payments.models import Order, Payment, Refund
from referrals.models import ReferralBinding, ReferralLinkStat
from tests.factories import UserFactory

_seq = itertools.count(1)
TZ = timezone.get_default_timezone()


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def days_ago(n: int, hour: int = 12) -> datetime:
    d = timezone.localdate() - timedelta(days=n)
    return datetime(d.year, d.month, d.day, hour, tzinfo=TZ)


def user(*, joined: datetime | None = None, staff: bool = False, **fields) -> User:
    u = UserFactory(is_staff=staff, **fields)
    if joined is not None:
        User.objects.filter(pk=u.pk).update(date_joined=joined)
        u.date_joined = joined
    return u


def tier(code: str = "VIP", rank: int = 1, price_fen: int = 360_000) -> MembershipTier:
    obj, _created = MembershipTier.objects.get_or_create(
        code=code, defaults={"name": code, "price_fen": price_fen, "rank": rank, "member_no_prefix": code}
    )
    return obj


def order(
    *,
    user: User,
    amount_fen: int,
    paid_at: datetime | None,
    item_type: str = "course",
    item_id: str = "1",
    channel: str = "wechat_miniprogram",
    referrer: User | None = None,
    status: str | None = None,
    refunded_fen: int = 0,
) -> Order:
    n = next(_seq)
    created = (paid_at or timezone.now()) - timedelta(minutes=2)
    o = Order.objects.create(
        order_no=f"T{n:012d}",
        user=user,
        item_type=item_type,
        item_id=item_id,
        title=f"{item_type} {item_id}",
        list_price_fen=max(amount_fen, 1),
        amount_fen=amount_fen,
        refunded_fen=refunded_fen,
        status=status or (Order.Status.PAID if paid_at else Order.Status.PENDING),
        channel=channel,
        referrer=referrer,
        referral_code=referrer.referral_code if referrer else "",
        paid_at=paid_at,
        expires_at=created + timedelta(minutes=30),
    )
    Order.objects.filter(pk=o.pk).update(created_at=created)
    if paid_at and amount_fen:
        Payment.objects.create(
            order=o,
            channel=channel,
            out_trade_no=f"{o.order_no}P",
            transaction_id=f"4200{n:020d}",
            amount_fen=amount_fen,
            status=Payment.Status.SUCCEEDED,
            paid_at=paid_at,
        )
    return o


def refund(
    *, order: Order, amount_fen: int, completed_at: datetime, kind: str = Refund.Kind.OPERATOR
) -> Refund:
    payment = order.payments.first()
    r = Refund.objects.create(
        order=order,
        payment=payment,
        out_refund_no=f"{order.order_no}R{next(_seq)}",
        amount_fen=amount_fen,
        kind=kind,
        status=Refund.Status.SUCCEEDED,
        completed_at=completed_at,
    )
    if kind != Refund.Kind.AUTO:
        order.refunded_fen += amount_fen
        order.status = (
            Order.Status.REFUNDED
            if order.refunded_fen == order.amount_fen
            else Order.Status.PARTIALLY_REFUNDED
        )
        order.save(update_fields=["refunded_fen", "status"])
    return r


def membership(*, user: User, tier: MembershipTier, starts_at: datetime, ends_at: datetime) -> Membership:
    m, _created = Membership.objects.update_or_create(
        user=user, defaults={"tier": tier, "starts_at": starts_at, "ends_at": ends_at}
    )
    return m


def grant(
    *,
    user: User,
    tier: MembershipTier,
    kind: str,
    created_at: datetime,
    source: str = MembershipGrant.Source.PURCHASE,
    ends_before: datetime | None = None,
    tier_before: MembershipTier | None = None,
    order: Order | None = None,
    revoked: bool = False,
    days: int = 365,
) -> MembershipGrant:
    m = Membership.objects.filter(user=user).first() or membership(
        user=user, tier=tier, starts_at=created_at, ends_at=created_at + timedelta(days=days)
    )
    starts = (
        created_at
        if kind != MembershipGrant.Kind.RENEW
        else (ends_before or created_at) - timedelta(days=365)
    )
    ends = (
        (ends_before + timedelta(days=days))
        if kind == MembershipGrant.Kind.RENEW
        else created_at + timedelta(days=days)
    )
    g = MembershipGrant.objects.create(
        membership=m,
        user=user,
        order=order,
        kind=kind,
        source=source,
        tier=tier,
        tier_before=tier_before or (tier if ends_before else None),
        ends_before=ends_before,
        starts_before=(ends_before - timedelta(days=365)) if ends_before else None,
        starts_after=starts,
        ends_after=ends,
        days=days,
        revoked_at=created_at + timedelta(days=1) if revoked else None,
    )
    MembershipGrant.objects.filter(pk=g.pk).update(created_at=created_at)
    return g


def bind(
    *, user: User, referrer: User, channel: str, bound_at: datetime, ended: datetime | None = None
) -> ReferralBinding:
    return ReferralBinding.objects.create(
        user=user,
        referrer=referrer,
        code=referrer.referral_code,
        channel=channel,
        source=ReferralBinding.Source.SIGNUP,
        bound_at=bound_at,
        protected_until=bound_at + timedelta(days=30),
        ended_at=ended,
    )


def circle(owner: User | None = None, name: str = "圈") -> Circle:
    return Circle.objects.create(owner=owner or user(), name=name, price_fen=19_900)


def circle_member(
    *, circle: Circle, user: User, events: list[tuple[str, datetime, dict]], **fields
) -> CircleMembership:
    first = events[0][1] if events else timezone.now()
    m = CircleMembership.objects.create(circle=circle, user=user, joined_at=first, **fields)
    for kind, when, details in events:
        e = CircleMembershipEvent.objects.create(membership=m, circle=circle, kind=kind, details=details)
        CircleMembershipEvent.objects.filter(pk=e.pk).update(created_at=when)
    return m


def course(
    *, published: int, unpublished: int = 0, teacher: User | None = None, title: str = "课"
) -> tuple[Course, list[Lesson]]:
    c = Course.objects.create(title=title, teacher=teacher or user())
    lessons = [
        Lesson.objects.create(course=c, title=f"L{i}", position=i, kind="text", is_published=i <= published)
        for i in range(1, published + unpublished + 1)
    ]
    return c, lessons


def progress(*, user: User, lesson: Lesson, completed_at: datetime | None) -> LessonProgress:
    return LessonProgress.objects.create(
        user=user,
        lesson=lesson,
        course=lesson.course,
        completed=completed_at is not None,
        completed_at=completed_at,
    )


def camp(*, days: int, teacher: User | None = None, title: str = "营") -> tuple[Camp, list[CampTask]]:
    c = Camp.objects.create(title=title, teacher=teacher or user(), days=days)
    tasks = [CampTask.objects.create(camp=c, day=d, title=f"D{d}") for d in range(1, days + 1)]
    return c, tasks


def term(*, camp: Camp, start: date, days: int | None = None) -> Term:
    return Term.objects.create(camp=camp, name=f"期{next(_seq)}", start_date=start, days=days or camp.days)


def seat(*, term: Term, user: User, active: bool = True) -> TermSeat:
    return TermSeat.objects.create(
        term=term,
        user=user,
        source="grant",
        status=TermSeat.Status.ACTIVE if active else TermSeat.Status.REVOKED,
    )


def checkin(
    *,
    seat: TermSeat,
    task: CampTask,
    status: str = CheckIn.Status.VISIBLE,
    created_at: datetime | None = None,
    reviewed_after: timedelta | None = None,
) -> CheckIn:
    day = seat.term.date_of_day(task.day)
    created_at = created_at or datetime(day.year, day.month, day.day, 20, tzinfo=TZ)
    c = CheckIn.objects.create(
        seat=seat, term=seat.term, user=seat.user, task=task, day=day, text="打卡", status=status
    )
    fields = {"created_at": created_at}
    if reviewed_after is not None:
        fields.update(reviewed_at=created_at + reviewed_after, review_score=5)
    CheckIn.objects.filter(pk=c.pk).update(**fields)
    return c


def dashboard_activity(n: int, *, start: int = 0):
    """For the dashboard tests: n buyers with an order, a membership grant, a binding, course progress
    and a check-in each, brought by one promoter."""
    vip = tier("VIP", 1)
    promoter = user(nickname=f"推广{start}")
    _course, lessons = course(published=2, title=f"课{start}")
    the_camp, tasks = camp(days=3, title=f"营{start}")
    the_term = term(camp=the_camp, start=timezone.localdate() - timedelta(days=2))
    the_circle = circle(name=f"圈{start}")
    for i in range(n):
        u = user(joined=days_ago(5 + i % 5))
        bind(user=u, referrer=promoter, channel="poster", bound_at=days_ago(5 + i % 5))
        o = order(
            user=u,
            amount_fen=19_900,
            paid_at=days_ago(1 + i % 4),
            referrer=promoter,
            item_type="membership",
        )
        grant(user=u, tier=vip, kind=MembershipGrant.Kind.START, created_at=days_ago(1 + i % 4), order=o)
        progress(user=u, lesson=lessons[0], completed_at=days_ago(1))
        s = seat(term=the_term, user=u)
        checkin(seat=s, task=tasks[0], reviewed_after=timedelta(hours=2))
        circle_member(circle=the_circle, user=u, events=[("joined", days_ago(10), {})])
    LinkVisitDay.objects.create(
        referrer=promoter, channel="poster", day=timezone.localdate() - timedelta(days=3), visits=3 * n
    )
    ReferralLinkStat.objects.create(user=promoter, channel="poster", visits=3 * n + 2, signups=n)
