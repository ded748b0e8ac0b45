"""Builders for the courses tests. Purchases and refunds go through the real payments path."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from courses.models import Camp, CampTask, Course, Event, Lesson, Term, TierEventQuota
from members.cache_versions import member_bump
from members.models import Membership, MembershipTier
from tests.factories import TierFactory, UserFactory
from tests.payments.helpers import create_paid_order, refund_order


def vip_tier() -> MembershipTier:
    return TierFactory(
        code="VIP", name="VIP会员", rank=1, member_no_prefix="VIP", single_purchase_discount_bp=1000
    )


def ka_tier() -> MembershipTier:
    return TierFactory(
        code="KA",
        name="KA大客户",
        rank=2,
        price_fen=12_000_000,
        member_no_prefix="KA",
        single_purchase_discount_bp=2000,
    )


def give_tier(user, tier: MembershipTier, *, expired: bool = False, now=None) -> Membership:
    """An active membership around `now` (default: the real now), or one that ended 35 days before it."""
    now = now or timezone.now()
    if expired:
        window = {"starts_at": now - timedelta(days=400), "ends_at": now - timedelta(days=35)}
    else:
        window = {"starts_at": now - timedelta(days=10), "ends_at": now + timedelta(days=355)}
    membership, _created = Membership.objects.update_or_create(user=user, defaults={"tier": tier, **window})
    member_bump(user.pk)  # written directly, not by a members service: announce it as they do
    return membership


def make_course(
    *, teacher=None, price_fen=19_900, tiers=(), title="私域增长实战", lessons=3, previews=1
) -> Course:
    course = Course.objects.create(
        title=title,
        summary="从 0 到 1",
        teacher=teacher or UserFactory(nickname="王老师"),
        price_fen=price_fen,
    )
    course.included_in_tiers.set(tiers)
    for i in range(lessons):
        Lesson.objects.create(
            course=course,
            title=f"第{i + 1}课",
            position=i + 1,
            kind=Lesson.Kind.VIDEO,
            media_url=f"https://media.example.com/{course.pk}/{i + 1}.mp4",
            duration_seconds=600,
            body=f"讲义 {i + 1}",
            is_preview=i < previews,
        )
    return course


def preview_lesson(course: Course) -> Lesson:
    return course.lessons.filter(is_preview=True).order_by("position").first()


def paid_lesson(course: Course) -> Lesson:
    return course.lessons.filter(is_preview=False).order_by("position").first()


def make_event(*, tiers=(), price_fen=29_900, capacity=30, starts_in=timedelta(days=10), **fields) -> Event:
    starts_at = timezone.now() + starts_in
    event = Event.objects.create(
        title=fields.pop("title", "上海线下私董会"),
        city="上海",
        venue="静安会议中心",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=6),
        capacity=capacity,
        price_fen=price_fen,
        organizer=fields.pop("organizer", None) or UserFactory(nickname="主办方"),
        **fields,
    )
    event.included_in_tiers.set(tiers)
    return event


def set_quota(tier: MembershipTier, per_year: int) -> TierEventQuota:
    quota, _created = TierEventQuota.objects.update_or_create(
        tier=tier, defaults={"events_per_year": per_year}
    )
    return quota


def make_camp(
    *,
    tiers=(),
    price_fen=9_900,
    days=7,
    started_days_ago=2,
    teacher=None,
    reminder_time=time(20, 0),
    today=None,
    **fields,
) -> tuple[Camp, Term]:
    """A camp with one task per day and a term whose day 1 was `started_days_ago` days before today."""
    camp = Camp.objects.create(
        title=fields.pop("title", "21天写作训练营"),
        teacher=teacher or UserFactory(nickname="李老师"),
        price_fen=price_fen,
        days=days,
        reminder_time=reminder_time,
        **fields,
    )
    camp.included_in_tiers.set(tiers)
    for day in range(1, days + 1):
        CampTask.objects.create(camp=camp, day=day, title=f"任务{day}", body=f"第{day}天：写 300 字")
    today = today or timezone.localdate()
    term = Term.objects.create(
        camp=camp, name="第1期", start_date=today - timedelta(days=started_days_ago), days=days
    )
    return camp, term


def buy(user, item_type: str, item_id) -> object:
    return create_paid_order(user=user, item_type=item_type, item_id=str(item_id))


def refund(order) -> object:
    return refund_order(order=order)


def shanghai(year, month, day, hour=0, minute=0, second=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.get_current_timezone())
