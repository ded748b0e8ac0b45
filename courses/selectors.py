"""Reads of the courses app.

The access questions have ONE answer each, used by pages, the API and the services alike:
`course_access` / `lesson_access` (courses and lessons), `event_access` (offline events) and
`term_access` (camp terms). Views never decide access themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import (
    Camp,
    CampTask,
    CheckIn,
    Course,
    CourseEnrolment,
    Event,
    EventRegistration,
    Lesson,
    LessonProgress,
    Source,
    Term,
    TermSeat,
    TierEventQuota,
)

_UNSET = object()
MEMBERSHIP_YEAR = timedelta(days=365)
LEADERBOARD_SIZE = 50


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def user_tier_ids(user) -> set[int]:
    """Ids of every tier the user's active membership includes (rank-inclusive), via members."""
    if not _authenticated(user):
        return set()
    from members.memberships.selectors import active_tier_ids

    return set(active_tier_ids(user))


def tier_ticket_covered(user, event: Event) -> bool:
    """True while an active tier of the user includes the event: what a tier-included ticket
    (`EventRegistration.source == tier`) rests on. Checked at the door and after refunds."""
    return bool(_tier_ids_of(event) & user_tier_ids(user))


def _membership_lapsed(user, now: datetime) -> bool:
    """True when the user had a membership that has ended (to say "renew" rather than "buy")."""
    from members.models import Membership

    return Membership.objects.filter(user_id=user.pk, ends_at__lte=now).exists()


@dataclass(frozen=True)
class Entitlements:
    """What decides a member's access to courses, besides the user row itself (staff, teacher).

    tier_ids: every tier the active membership includes (rank-inclusive); enrolled: {course id: source}
    of active enrolments; lapsed: the member had a membership that has ended; tier_name and
    discount_bp: the active tier's single-purchase discount. Cached per member (courses/cache.py).
    """

    tier_ids: frozenset[int] = frozenset()
    enrolled: dict[int, str] = field(default_factory=dict)
    lapsed: bool = False
    tier_name: str = ""
    discount_bp: int = 0


NO_ENTITLEMENTS = Entitlements()


def _entitlements_build(user) -> tuple[tuple, datetime | None]:
    """The member's facts as plain values (what the cache stores) and the moment they stop holding by
    themselves (the membership starts or ends); 3 statements, on a cache miss only."""
    from members.models import Membership, MembershipTier

    now = timezone.now()
    membership = Membership.objects.select_related("tier").filter(user_id=user.pk).first()
    tier_ids, lapsed, name, discount, until = [], False, "", 0, None
    if membership is not None:
        if membership.starts_at <= now < membership.ends_at:
            # rank-inclusive, as members.memberships.selectors.active_tier_ids answers it
            tier = membership.tier
            tier_ids = list(MembershipTier.objects.filter(rank__lte=tier.rank).values_list("id", flat=True))
            name, discount, until = tier.name, int(tier.single_purchase_discount_bp), membership.ends_at
        elif now < membership.starts_at:
            until = membership.starts_at
        else:
            lapsed = True
    enrolled = list(
        CourseEnrolment.objects.filter(user_id=user.pk, status=CourseEnrolment.Status.ACTIVE).values_list(
            "course_id", "source"
        )
    )
    return (tier_ids, enrolled, lapsed, name, discount), until


def _entitlements_of(state) -> Entitlements:
    tier_ids, enrolled, lapsed, name, discount = state
    return Entitlements(frozenset(tier_ids), dict(enrolled), lapsed, name, discount)


def _member_read(user):
    """The `member=` argument of courses.cache.get_many_or_build for this user (None when anonymous)."""
    return (user.pk, lambda: _entitlements_build(user)) if _authenticated(user) else None


def entitlements(user, *, fresh: bool = False) -> Entitlements:
    """The member's access facts, from the cache (one round trip) or built and cached; `fresh`: from
    the database, bypassing the cache (what money decisions use)."""
    from courses import cache

    if not _authenticated(user):
        return NO_ENTITLEMENTS
    if fresh:
        return _entitlements_of(_entitlements_build(user)[0])
    return _entitlements_of(cache.get_many_or_build({}, member=_member_read(user))["member"])


def _tier_ids_of(obj) -> set[int]:
    """Tier ids of an object's `included_in_tiers` (uses a prefetch when there is one)."""
    return {tier.pk for tier in obj.included_in_tiers.all()}


# ---- courses and lessons -----------------------------------------------------------------------------------

REASON_TEXT = {
    "login": _("请先登录"),
    "buy": _("购买课程或开通会员后解锁"),
    "tier_required": _("开通会员后解锁"),
    "membership_expired": _("你的会员已到期，续费后继续学习"),
    "unavailable": _("该课程暂不可学习"),
}


@dataclass(frozen=True)
class CourseAccess:
    """Whether the whole course is unlocked for a user, and why.

    via (unlocked): "staff", "tier", or the enrolment source ("purchase", "points", "grant", "free").
    reason (locked): "login", "buy", "tier_required", "membership_expired", "unavailable".
    """

    unlocked: bool
    via: str = ""
    reason: str = ""
    entitlements: Entitlements = field(default=NO_ENTITLEMENTS, compare=False)  # what it was decided on

    @property
    def reason_text(self) -> str:
        return str(REASON_TEXT.get(self.reason, ""))

    def lesson_locked(self, lesson: Lesson) -> bool:
        return not (lesson.is_preview or self.unlocked)


@dataclass(frozen=True)
class LessonAccess:
    allowed: bool
    via: str = ""  # "preview" or CourseAccess.via
    reason: str = ""
    course_access: CourseAccess | None = None

    @property
    def reason_text(self) -> str:
        return str(REASON_TEXT.get(self.reason, ""))


def course_access(user, course: Course, *, facts: Entitlements | None = None) -> CourseAccess:
    """Unlocked by: staff/teacher, an active enrolment (bought, redeemed with points, granted), or a
    tier of the user's active membership that includes the course (rank-inclusive).

    The member's side comes from `entitlements(user)` (cached); pass `facts` when the caller already
    read them in its own cache round trip.
    """
    if not _authenticated(user):
        return CourseAccess(False, reason="login")
    if user.is_staff or course.teacher_id == user.pk:
        return CourseAccess(True, via="staff")
    if facts is None:
        facts = entitlements(user)
    source = facts.enrolled.get(course.pk)
    if source is not None:
        return CourseAccess(True, via=source, entitlements=facts)
    course_tiers = _tier_ids_of(course)
    if course_tiers & facts.tier_ids:
        return CourseAccess(True, via="tier", entitlements=facts)
    if course_tiers and facts.lapsed:
        return CourseAccess(False, reason="membership_expired", entitlements=facts)
    if course.for_sale:
        return CourseAccess(False, reason="buy", entitlements=facts)
    if course_tiers:
        return CourseAccess(False, reason="tier_required", entitlements=facts)
    return CourseAccess(False, reason="unavailable", entitlements=facts)


def lesson_access(user, lesson: Lesson, *, course_access_: CourseAccess | None = None) -> LessonAccess:
    """THE answer to "may this user open this lesson?": a free preview, or the course is unlocked."""
    if lesson.is_preview:
        return LessonAccess(True, via="preview", course_access=course_access_)
    access = course_access_ or course_access(user, lesson.course)
    if access.unlocked:
        return LessonAccess(True, via=access.via, course_access=access)
    return LessonAccess(False, reason=access.reason, course_access=access)


def catalog(*, user=None) -> QuerySet[Course]:
    """Published courses with teacher, tiers and lesson counts: 2 queries whatever the size."""
    from members.models import MembershipTier

    return (
        Course.objects.filter(is_published=True)
        .select_related("teacher")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .annotate(
            lesson_count=Count("lessons", filter=Q(lessons__is_published=True)),
            preview_count=Count("lessons", filter=Q(lessons__is_published=True, lessons__is_preview=True)),
        )
        .order_by("sort_order", "-created_at", "id")
    )


class CatalogRows:
    """The published catalog (`catalog()` order) as rows built by `row(course)`, page by page from the
    cache: what Django's and DRF's paginators need (`count()` and slices). See courses/cache.py.

    `page` (start, stop): the slice the paginator will ask for, when the caller knows it — the count
    and that page then come in one cache round trip. `user`: that round trip also reads the member's
    `entitlements` (then `self.facts`)."""

    def __init__(self, *, shape: str, row, page: tuple[int, int] | None = None, user=None):
        self.shape, self.row, self.page, self.user = shape, row, page, user
        self._count: int | None = None
        self._rows: dict[tuple[int, int], list] = {}
        self._facts: Entitlements | None = None

    @property
    def facts(self) -> Entitlements:
        if self._facts is None:
            self.count()
        return self._facts if self._facts is not None else entitlements(self.user)

    def _rows_builder(self, start: int, stop: int):
        return lambda: [self.row(c) for c in catalog()[start:stop]]

    def count(self) -> int:
        from courses import cache

        if self._count is None:
            builders = {"count": lambda: Course.objects.filter(is_published=True).count()}
            if self.page is not None:
                builders[f"{self.shape}:{self.page[0]}:{self.page[1]}"] = self._rows_builder(*self.page)
            values = cache.get_many_or_build(builders, member=_member_read(self.user))
            if "member" in values:
                self._facts = _entitlements_of(values.pop("member"))
            self._count = values.pop("count")
            if self.page is not None:
                self._rows[self.page] = next(iter(values.values()))
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        from courses import cache

        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("CatalogRows supports plain slices only")
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        hinted = self._rows.get(self.page) if self.page else None
        if hinted is not None and start == self.page[0] and stop <= self.page[1]:
            return hinted[: stop - start]  # the last page: the paginator stops at the count
        if (start, stop) not in self._rows:
            self._rows[(start, stop)] = cache.get_or_build(
                f"{self.shape}:{start}:{stop}", self._rows_builder(start, stop)
            )
        return self._rows[(start, stop)]


def catalog_unlocked_ids(*, user, courses) -> set[int]:
    """Ids among `courses` that are unlocked for the user (the member's facts: `entitlements`)."""
    return unlocked_among(user=user, entries=[(c.pk, c.teacher_id, _tier_ids_of(c)) for c in courses])


def unlocked_among(
    *, user, entries: list[tuple[int, int, set[int]]], facts: Entitlements | None = None
) -> set[int]:
    """`catalog_unlocked_ids` over (course id, teacher id, tier ids) facts, e.g. from cached rows: the
    same rules as `course_access` (pass `facts` when already read)."""
    if not _authenticated(user):
        return set()
    if user.is_staff:
        return {pk for pk, _teacher, _tiers in entries}
    if facts is None:
        facts = entitlements(user)
    return {
        pk
        for pk, teacher_id, tiers in entries
        if pk in facts.enrolled or teacher_id == user.pk or (tiers & facts.tier_ids)
    }


def _course_query(course_id) -> Course | None:
    from members.models import MembershipTier

    return (
        Course.objects.filter(pk=_int(course_id), is_published=True)
        .select_related("teacher")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .first()
    )


def _published_lessons(course):
    """The course's published lessons in reading order (what the course page and its lessons cache hold)."""
    return course.lessons.filter(is_published=True).order_by("position", "id")


def course_get(*, course_id) -> Course:
    """A published course with its teacher and tiers, or Http404."""
    from courses import cache

    def build() -> dict | bool:
        course = _course_query(course_id)
        return cache.frozen_course(course) if course is not None else False  # a miss is cached too

    state = cache.get_or_build(f"course:{_int(course_id)}", build)
    if not state:
        raise Http404
    return cache.thawed_course(state)


def course_page(
    *, course_id, shape: str = "", extra=None, user=None
) -> tuple[Course, list[Lesson], object, Entitlements]:
    """`course_get` and `course_lessons` in one cache read, plus `extra(course, lessons)` (e.g. an
    API's serialized public part, under its `shape` name) cached with them, and `user`'s
    `entitlements` in the same round trip. Http404 as course_get."""
    from courses import cache

    def build() -> dict | bool:
        course = _course_query(course_id)
        if course is None:
            return False
        lessons = list(_published_lessons(course))
        return {
            "course": cache.frozen_course(course),
            "lessons": [cache.frozen(lesson) for lesson in lessons],
            "extra": extra(course, lessons) if extra is not None else None,
        }

    name = f"page:{shape}:{_int(course_id)}"
    values = cache.get_many_or_build({name: build}, member=_member_read(user))
    state = values[name]
    if not state:
        raise Http404
    facts = _entitlements_of(values["member"]) if "member" in values else NO_ENTITLEMENTS
    lessons = [cache.thawed(Lesson, lesson) for lesson in state["lessons"]]
    return cache.thawed_course(state["course"]), lessons, state["extra"], facts


def course_lessons(course: Course) -> list[Lesson]:
    """Published lessons in order, from the cache (the course page and the API read them often)."""
    from courses import cache

    states = cache.get_or_build(
        f"lessons:{course.pk}", lambda: [cache.frozen(x) for x in _published_lessons(course)]
    )
    return [cache.thawed(Lesson, state) for state in states]


def progress_by_lesson(*, user, course: Course) -> dict[int, LessonProgress]:
    if not _authenticated(user):
        return {}
    return {p.lesson_id: p for p in LessonProgress.objects.filter(user_id=user.pk, course_id=course.pk)}


def completion_percent(*, lessons: list[Lesson], progress: dict[int, LessonProgress]) -> int:
    if not lessons:
        return 0
    done = sum(1 for lesson in lessons if (p := progress.get(lesson.pk)) is not None and p.completed)
    return done * 100 // len(lessons)


def lesson_get(*, lesson_id) -> Lesson:
    """A published lesson of a published course (course and teacher loaded), or Http404."""
    from members.models import MembershipTier

    lesson = (
        Lesson.objects.filter(pk=_int(lesson_id), is_published=True, course__is_published=True)
        .select_related("course", "course__teacher")
        .prefetch_related(Prefetch("course__included_in_tiers", queryset=MembershipTier.objects.all()))
        .first()
    )
    if lesson is None:
        raise Http404
    return lesson


def lesson_neighbours(lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    siblings = course_lessons(lesson.course)
    ids = [s.pk for s in siblings]
    index = ids.index(lesson.pk) if lesson.pk in ids else -1
    previous = siblings[index - 1] if index > 0 else None
    following = siblings[index + 1] if 0 <= index < len(siblings) - 1 else None
    return previous, following


def my_courses(*, user) -> list[tuple[Course, int]]:
    """Courses the user has started or is enrolled in, with completion %."""
    if not _authenticated(user):
        return []
    course_ids = set(
        CourseEnrolment.objects.filter(user_id=user.pk, status=CourseEnrolment.Status.ACTIVE).values_list(
            "course_id", flat=True
        )
    ) | set(LessonProgress.objects.filter(user_id=user.pk).values_list("course_id", flat=True))
    courses = list(catalog().filter(pk__in=course_ids))
    done = dict(
        LessonProgress.objects.filter(user_id=user.pk, course_id__in=course_ids, completed=True)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    return [(c, (done.get(c.pk, 0) * 100 // c.lesson_count) if c.lesson_count else 0) for c in courses]


# ---- offline events ---------------------------------------------------------------------------------------

EVENT_STATE_TEXT = {
    "login": _("登录后报名"),
    "registered": _("已报名"),
    "pending_payment": _("已为你保留名额，请尽快支付"),
    "waitlisted": _("候补中，有空位时会通知你"),
    "ended": _("活动已结束"),
    "closed": _("报名已截止"),
    "free_for_member": _("会员权益：免费报名"),
    "free": _("免费报名"),
    "buy": _("付费报名"),
    "tier_required": _("仅限会员报名"),
    "quota_used": _("本会员年度的免费线下课次数已用完"),
    "membership_expired": _("你的会员已到期，续费后可免费报名"),
}


@dataclass(frozen=True)
class EventAccess:
    """What a user can do about one event.

    state: "login", "registered", "pending_payment", "waitlisted", "ended", "closed",
    "free_for_member" (tier-included, quota left), "free", "buy", "tier_required", "quota_used",
    "membership_expired". `full` says a new registration would join the waitlist.
    """

    state: str
    registration: EventRegistration | None = None
    seats_left: int = 0
    quota_limit: int | None = None
    quota_used: int = 0
    payable: bool = False  # the event can be bought (price > 0)

    @property
    def has_ticket(self) -> bool:
        return self.state == "registered"

    @property
    def full(self) -> bool:
        return self.seats_left <= 0

    @property
    def can_register_free(self) -> bool:
        return self.state in ("free_for_member", "free")

    @property
    def must_pay(self) -> bool:
        return self.state in ("buy", "pending_payment") or (
            self.state == "membership_expired" and self.payable
        )

    @property
    def state_text(self) -> str:
        return str(EVENT_STATE_TEXT.get(self.state, ""))


def event_seats_taken(event: Event, *, now: datetime | None = None) -> int:
    """Confirmed registrations plus unexpired payment holds (call under the event lock when writing)."""
    now = now or timezone.now()
    return EventRegistration.objects.filter(
        Q(status=EventRegistration.Status.CONFIRMED)
        | Q(status=EventRegistration.Status.PENDING, hold_expires_at__gt=now),
        event_id=event.pk,
    ).count()


def membership_year_start(membership, now: datetime) -> datetime:
    """Start of the current membership year (years counted from the membership's start)."""
    elapsed = max(timedelta(0), now - membership.starts_at)
    return membership.starts_at + MEMBERSHIP_YEAR * (elapsed // MEMBERSHIP_YEAR)


def tier_event_quota(user, *, now: datetime | None = None) -> tuple[int | None, int]:
    """(events per membership year or None for unlimited, tier-included registrations used this year)."""
    from members.memberships.selectors import active_membership

    now = now or timezone.now()
    membership = active_membership(user)
    if membership is None:
        return 0, 0
    quota = TierEventQuota.objects.filter(tier_id=membership.tier_id).first()
    limit = quota.events_per_year if quota is not None and quota.events_per_year else None
    if limit is None:
        return None, 0
    used = EventRegistration.objects.filter(
        user_id=user.pk,
        source=Source.TIER,
        status=EventRegistration.Status.CONFIRMED,
        confirmed_at__gte=membership_year_start(membership, now),
    ).count()
    return limit, used


def event_access(user, event: Event, *, now: datetime | None = None, registration=_UNSET) -> EventAccess:
    """THE answer to "what may this user do about this event?" (pages, API and services)."""
    now = now or timezone.now()
    payable = event.price_fen > 0
    seats_left = max(0, event.capacity - event_seats_taken(event, now=now))
    if not _authenticated(user):
        return EventAccess("login", seats_left=seats_left, payable=payable)
    if registration is _UNSET:
        registration = EventRegistration.objects.filter(event_id=event.pk, user_id=user.pk).first()
    R = EventRegistration.Status
    if registration is not None:
        if registration.status == R.CONFIRMED:
            return EventAccess("registered", registration, seats_left, payable=payable)
        if (
            registration.status == R.PENDING
            and registration.hold_expires_at
            and registration.hold_expires_at > now
        ):
            return EventAccess("pending_payment", registration, seats_left, payable=payable)
        if registration.status == R.WAITLISTED:
            return EventAccess("waitlisted", registration, seats_left, payable=payable)
    if now >= event.ends_at:
        return EventAccess("ended", registration, seats_left, payable=payable)
    if now >= event.closes_at:
        return EventAccess("closed", registration, seats_left, payable=payable)
    event_tiers = _tier_ids_of(event)
    if event_tiers and event_tiers & user_tier_ids(user):
        limit, used = tier_event_quota(user, now=now)
        if limit is None or used < limit:
            return EventAccess("free_for_member", registration, seats_left, limit, used, payable=payable)
        if event.price_fen > 0:
            return EventAccess("buy", registration, seats_left, limit, used, payable=payable)
        return EventAccess("quota_used", registration, seats_left, limit, used, payable=payable)
    if event.price_fen > 0:
        if event_tiers and _membership_lapsed(user, now):
            return EventAccess("membership_expired", registration, seats_left, payable=payable)
        return EventAccess("buy", registration, seats_left, payable=payable)
    if event_tiers:
        if _membership_lapsed(user, now):
            return EventAccess("membership_expired", registration, seats_left, payable=payable)
        return EventAccess("tier_required", registration, seats_left, payable=payable)
    return EventAccess("free", registration, seats_left, payable=payable)


def events_listed(*, now: datetime | None = None, include_past: bool = False) -> QuerySet[Event]:
    from members.models import MembershipTier

    now = now or timezone.now()
    events = Event.objects.filter(is_published=True)
    if not include_past:
        events = events.filter(ends_at__gt=now)
    return (
        events.prefetch_related(
            Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank"))
        )
        .annotate(
            seats_taken=Count(
                "registrations",
                filter=Q(registrations__status=EventRegistration.Status.CONFIRMED)
                | Q(
                    registrations__status=EventRegistration.Status.PENDING,
                    registrations__hold_expires_at__gt=now,
                ),
            )
        )
        .order_by("starts_at", "id")
    )


def event_get(*, event_id) -> Event:
    from members.models import MembershipTier

    event = (
        Event.objects.filter(pk=_int(event_id), is_published=True)
        .select_related("organizer")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .first()
    )
    if event is None:
        raise Http404
    return event


def event_can_check_in(user, event: Event) -> bool:
    """Organizer, the event's check-in staff, or operators (superusers / 运营 role)."""
    from core.roles import OPERATOR, has_role

    if not _authenticated(user):
        return False
    if user.is_superuser or event.organizer_id == user.pk:
        return True
    if event.staff.filter(pk=user.pk).exists():
        return True
    return has_role(user, OPERATOR)


def my_tickets(*, user) -> QuerySet[EventRegistration]:
    from members.models import MembershipTier

    R = EventRegistration.Status
    return (
        EventRegistration.objects.filter(user_id=user.pk, status__in=[R.CONFIRMED, R.PENDING, R.WAITLISTED])
        .select_related("event")
        .prefetch_related(
            Prefetch("event__included_in_tiers", queryset=MembershipTier.objects.order_by("rank"))
        )
        .order_by("event__starts_at")
    )


def ticket_get(*, user, code: str) -> EventRegistration:
    registration = (
        EventRegistration.objects.filter(user_id=user.pk, ticket_code=str(code).upper()[:16])
        .select_related("event")
        .first()
    )
    if registration is None:
        raise Http404
    return registration


def event_attendance(event: Event) -> dict[str, int]:
    R = EventRegistration.Status
    counts = dict(event.registrations.values("status").annotate(n=Count("id")).values_list("status", "n"))
    checked_in = event.registrations.filter(status=R.CONFIRMED, checked_in_at__isnull=False).count()
    return {
        "confirmed": counts.get(R.CONFIRMED, 0),
        "checked_in": checked_in,
        "waitlisted": counts.get(R.WAITLISTED, 0),
        "pending": counts.get(R.PENDING, 0),
        "capacity": event.capacity,
    }


# ---- training camps -----------------------------------------------------------------------------------------

TERM_STATE_TEXT = {
    "login": _("登录后报名"),
    "joined": _("已加入本期"),
    "join_free": _("会员权益：免费加入"),
    "join": _("免费加入"),
    "buy": _("付费报名"),
    "tier_required": _("仅限会员参加"),
    "membership_expired": _("你的会员已到期，续费后继续参加"),
    "ended": _("本期已结营"),
    "full": _("本期名额已满"),
}


@dataclass(frozen=True)
class TermAccess:
    """What a user can do in one camp term.

    state: "login", "joined", "join_free" (tier), "join" (free camp), "buy", "tier_required",
    "membership_expired", "ended", "full". `staff` = teacher/reviewer/operator (can view, not check in).
    """

    state: str
    seat: TermSeat | None = None
    staff: bool = False

    @property
    def joined(self) -> bool:
        return self.state == "joined"

    @property
    def can_view(self) -> bool:
        return self.joined or self.staff

    @property
    def state_text(self) -> str:
        return str(TERM_STATE_TEXT.get(self.state, ""))


def camp_can_review(user, camp: Camp) -> bool:
    """The camp's teacher, its reviewers (助教), or operators."""
    from core.roles import OPERATOR, has_role

    if not _authenticated(user):
        return False
    if user.is_superuser or camp.teacher_id == user.pk:
        return True
    if camp.reviewers.filter(pk=user.pk).exists():
        return True
    return has_role(user, OPERATOR)


def term_seats_taken(term: Term) -> int:
    return TermSeat.objects.filter(term_id=term.pk, status=TermSeat.Status.ACTIVE).count()


def term_access(user, term: Term, *, now: datetime | None = None, seat=_UNSET) -> TermAccess:
    """THE answer to "may this user take part in this term?" (pages, API, services, reminders agree).

    A seat obtained through a tier lasts while a tier including the camp is active.
    """
    now = now or timezone.now()
    if not _authenticated(user):
        return TermAccess("login")
    camp = term.camp
    staff = user.is_staff or camp.teacher_id == user.pk
    if seat is _UNSET:
        seat = TermSeat.objects.filter(term_id=term.pk, user_id=user.pk).first()
    camp_tiers = _tier_ids_of(camp)
    tier_ok = None  # computed at most once
    if seat is not None and seat.status == TermSeat.Status.ACTIVE:
        if seat.source != Source.TIER:
            return TermAccess("joined", seat, staff)
        tier_ok = bool(camp_tiers & user_tier_ids(user))
        if tier_ok:
            return TermAccess("joined", seat, staff)
        return TermAccess("membership_expired", seat, staff)
    today = timezone.localdate(now)
    if today > term.end_date:
        return TermAccess("ended", seat, staff)
    if term.capacity is not None and term_seats_taken(term) >= term.capacity:
        return TermAccess("full", seat, staff)
    if tier_ok is None:
        tier_ok = bool(camp_tiers & user_tier_ids(user))
    if tier_ok:
        return TermAccess("join_free", seat, staff)
    if camp.price_fen > 0:
        if camp_tiers and _membership_lapsed(user, now):
            return TermAccess("membership_expired", seat, staff)
        return TermAccess("buy", seat, staff)
    if camp_tiers:
        if _membership_lapsed(user, now):
            return TermAccess("membership_expired", seat, staff)
        return TermAccess("tier_required", seat, staff)
    return TermAccess("join", seat, staff)


def camps_listed() -> QuerySet[Camp]:
    from members.models import MembershipTier

    return (
        Camp.objects.filter(is_published=True)
        .select_related("teacher")
        .prefetch_related(
            Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")),
            Prefetch("terms", queryset=Term.objects.filter(is_published=True).order_by("start_date", "id")),
        )
        .order_by("-created_at", "id")
    )


def camp_get(*, camp_id) -> Camp:
    from members.models import MembershipTier

    camp = (
        Camp.objects.filter(pk=_int(camp_id), is_published=True)
        .select_related("teacher")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .first()
    )
    if camp is None:
        raise Http404
    return camp


def camp_terms(camp: Camp) -> list[Term]:
    return list(camp.terms.filter(is_published=True).order_by("start_date", "id"))


def featured_term(terms: list[Term], *, today: date) -> Term | None:
    """The running term, else the next one to start, else the latest."""
    running = [t for t in terms if t.start_date <= today <= t.end_date]
    if running:
        return running[-1]
    upcoming = [t for t in terms if t.start_date > today]
    if upcoming:
        return upcoming[0]
    return terms[-1] if terms else None


def term_get(*, term_id) -> Term:
    from members.models import MembershipTier

    term = (
        Term.objects.filter(pk=_int(term_id), is_published=True, camp__is_published=True)
        .select_related("camp", "camp__teacher")
        .prefetch_related(
            Prefetch("camp__included_in_tiers", queryset=MembershipTier.objects.order_by("rank"))
        )
        .first()
    )
    if term is None:
        raise Http404
    return term


def term_tasks(term: Term) -> list[CampTask]:
    return list(CampTask.objects.filter(camp_id=term.camp_id, day__lte=term.days).order_by("day"))


def task_for_day(term: Term, day: int) -> CampTask | None:
    if day < 1 or day > term.days:
        return None
    return CampTask.objects.filter(camp_id=term.camp_id, day=day).first()


def seat_checkins(seat: TermSeat | None) -> dict[date, CheckIn]:
    if seat is None:
        return {}
    return {c.day: c for c in CheckIn.objects.filter(seat_id=seat.pk)}


@dataclass(frozen=True)
class CalendarDay:
    date: date
    day: int
    task: CampTask | None
    state: str  # "done", "review", "rejected", "today", "makeup", "missed", "locked"
    checkin: CheckIn | None = None

    @property
    def css(self) -> str:
        return {"done": "done", "review": "review", "missed": "missed", "rejected": "missed"}.get(
            self.state, self.state
        )


def term_calendar(*, term: Term, seat: TermSeat | None, now: datetime | None = None) -> list[CalendarDay]:
    """Every day of the term for one member: done / in review / today / can make up / missed / locked."""
    today = timezone.localdate(now or timezone.now())
    camp = term.camp
    tasks = {t.day: t for t in term_tasks(term)}
    checkins = seat_checkins(seat)
    makeups_left = (camp.makeup_limit - seat.makeups_used) if seat else 0
    days = []
    for n in range(1, term.days + 1):
        on = term.date_of_day(n)
        checkin = checkins.get(on)
        if checkin is not None and checkin.status == CheckIn.Status.VISIBLE:
            state = "done"
        elif checkin is not None and checkin.status == CheckIn.Status.REVIEW:
            state = "review"
        elif on > today:
            state = "locked"
        elif on == today:
            state = "today"
        elif camp.makeup_days and (today - on).days <= camp.makeup_days and makeups_left > 0 and n in tasks:
            state = "makeup"
        elif checkin is not None:
            state = "rejected"
        else:
            state = "missed"
        days.append(CalendarDay(on, n, tasks.get(n), state, checkin))
    return days


def leaderboard(*, term: Term, limit: int = LEADERBOARD_SIZE) -> list[TermSeat]:
    """Top seats by term points, then days checked in, then best streak: 1 query (user joined)."""
    return list(
        TermSeat.objects.filter(term_id=term.pk, status=TermSeat.Status.ACTIVE)
        .select_related("user")
        .only(
            "id",
            "term_id",
            "points",
            "checkin_days",
            "best_streak",
            "streak",
            "streak_last_day",
            "completed_at",
            "user__id",
            "user__nickname",
            "user__username",
            "user__member_no",
            "user__avatar_url",
        )
        .order_by("-points", "-checkin_days", "-best_streak", "id")[:limit]
    )


def seat_rank(seat: TermSeat | None) -> int | None:
    """1-based rank of a seat in its term's leaderboard order: one count query."""
    if seat is None or seat.status != TermSeat.Status.ACTIVE:
        return None
    ahead = TermSeat.objects.filter(term_id=seat.term_id, status=TermSeat.Status.ACTIVE).filter(
        Q(points__gt=seat.points)
        | Q(points=seat.points, checkin_days__gt=seat.checkin_days)
        | Q(points=seat.points, checkin_days=seat.checkin_days, best_streak__gt=seat.best_streak)
        | Q(points=seat.points, checkin_days=seat.checkin_days, best_streak=seat.best_streak, id__lt=seat.pk)
    )
    return ahead.count() + 1


def term_feed(*, term: Term, limit: int = 20, before_id: int | None = None) -> list[CheckIn]:
    """Visible check-ins of a term, newest first, with author, task and reviewer (1 query)."""
    checkins = CheckIn.objects.filter(term_id=term.pk, status=CheckIn.Status.VISIBLE)
    if before_id:
        checkins = checkins.filter(id__lt=before_id)
    return list(checkins.select_related("user", "task", "reviewed_by").order_by("-id")[:limit])


def my_terms(*, user) -> QuerySet[TermSeat]:
    return (
        TermSeat.objects.filter(user_id=user.pk, status=TermSeat.Status.ACTIVE)
        .select_related("term", "term__camp")
        .order_by("-term__start_date")
    )


# ---- review and moderation queues ------------------------------------------------------------------------


def reviewable_camps(user) -> QuerySet[Camp]:
    from core.roles import OPERATOR, has_role

    if not _authenticated(user):
        return Camp.objects.none()
    if user.is_superuser or has_role(user, OPERATOR):
        return Camp.objects.all()
    return Camp.objects.filter(Q(teacher_id=user.pk) | Q(reviewers=user)).distinct()


def review_queue(*, user, camp_id: int | None = None) -> QuerySet[CheckIn]:
    """Visible, unreviewed check-ins of the camps this user reviews, longest waiting first."""
    camps = reviewable_camps(user)
    if camp_id:
        camps = camps.filter(pk=camp_id)
    return (
        CheckIn.objects.filter(
            status=CheckIn.Status.VISIBLE,
            reviewed_at__isnull=True,
            term__camp_id__in=Subquery(camps.values("pk")),
        )
        .select_related("user", "task", "term", "term__camp")
        .order_by("created_at", "id")
    )


def moderation_queue(*, user) -> QuerySet[CheckIn]:
    camps = reviewable_camps(user)
    return (
        CheckIn.objects.filter(status=CheckIn.Status.REVIEW, term__camp_id__in=Subquery(camps.values("pk")))
        .select_related("user", "task", "term", "term__camp")
        .order_by("created_at", "id")
    )


def review_median_seconds(*, user, days: int = 30, now: datetime | None = None) -> float | None:
    """Median time from check-in to review over the last `days` days, for the camps this user reviews."""
    since = (now or timezone.now()) - timedelta(days=days)
    reviewed = CheckIn.objects.filter(
        reviewed_at__isnull=False,
        reviewed_at__gte=since,
        term__camp_id__in=Subquery(reviewable_camps(user).values("pk")),
    )
    if connection.vendor == "postgresql":
        sql, params = reviewed.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP "
                "(ORDER BY EXTRACT(EPOCH FROM c.reviewed_at - c.created_at)) "
                f"FROM {CheckIn._meta.db_table} c WHERE c.id IN ({sql})",
                params,
            )
            value = cursor.fetchone()[0]
        return float(value) if value is not None else None
    waits = sorted(
        (reviewed_at - created_at).total_seconds()
        for created_at, reviewed_at in reviewed.values_list("created_at", "reviewed_at")
    )
    if not waits:
        return None
    middle = len(waits) // 2
    return waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2


# ---- reminders -----------------------------------------------------------------------------------------------


def reminder_candidates(*, now: datetime | None = None) -> QuerySet[TermSeat]:
    """Seats due a check-in reminder now (ONE statement, indexed; the sweep inserts from it).

    Active seats of published running terms whose camp's reminder time has passed today (Asia/Shanghai),
    with no check-in for today and no reminder claimed today; a tier seat only while a tier including
    the camp is active. "Not reminded" is a NOT IN (a hashed subplan over today's reminder rows) on
    purpose: as NOT EXISTS, planned from stale statistics (today's rows are always fresh), it became a
    quadratic merge anti-join (0.7 s at 5,000 members). The claim's ON CONFLICT is the real guarantee.
    """
    from courses.models import CheckinReminder
    from members.models import Membership, MembershipTier

    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    camp_min_rank = Subquery(
        MembershipTier.objects.filter(camps=OuterRef("term__camp_id")).order_by("rank").values("rank")[:1]
    )
    tier_still_active = Exists(
        Membership.objects.filter(
            user_id=OuterRef("user_id"),
            starts_at__lte=now,
            ends_at__gt=now,
            tier__rank__gte=OuterRef("camp_min_rank"),
        )
    )
    return (
        TermSeat.objects.filter(
            status=TermSeat.Status.ACTIVE,
            term__is_published=True,
            term__start_date__lte=today,
            term__end_date__gte=today,
            term__camp__is_published=True,
            term__camp__reminder_time__lte=local.time().replace(tzinfo=None),
        )
        .annotate(camp_min_rank=camp_min_rank)
        .filter(~Q(source=Source.TIER) | tier_still_active)
        .filter(~Exists(CheckIn.objects.filter(seat_id=OuterRef("pk"), day=today)))
        .exclude(pk__in=CheckinReminder.objects.filter(day=today).values("seat_id"))
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None
