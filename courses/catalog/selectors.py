"""Reads of the catalog: `course_access` / `lesson_access` (THE answers, used by pages, API and
services), the cached catalog and course pages, lessons, progress and the member's courses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses import cache
from courses.ids import id_or_404
from courses.member_facts import (
    NO_ENTITLEMENTS,
    Entitlements,
    entitlements,
    entitlements_of,
    is_authenticated,
    member_facts_read,
    tier_ids_of,
)
from courses.models import (
    Course,
    CourseEnrolment,
    Lesson,
    LessonProgress,
)
from members.models import MembershipTier

REASON_TEXT = {
    "login": _("请先登录"),
    "buy": _("购买课程或开通会员后解锁"),
    "tier_required": _("开通会员后解锁"),
    "membership_expired": _("你的会员已到期，续费后继续学习"),
    "unavailable": _("该课程暂不可学习"),
    "not_released": _("本课时尚未解锁"),
}


def unlock_text(when: datetime) -> str:
    """ "12月10日 解锁" (with the time when it is not midnight), in the reader's language and Shanghai time."""
    local = timezone.localtime(when)
    day = date_format(local, "MONTH_DAY_FORMAT")
    if local.time() != time.min:
        day = f"{day} {date_format(local, 'H:i')}"
    return gettext("%(day)s 解锁") % {"day": day}


def unlock_day_text(lesson: Lesson, *, now: datetime | None = None) -> str:
    """What the course page says of a dripped lesson before the reader has a start: "开通后第3天解锁"
    or the date still to come; "" when the lesson is not dripped."""
    if lesson.release_at is not None:
        return unlock_text(lesson.release_at) if lesson.release_at > (now or timezone.now()) else ""
    if lesson.release_after_days:
        return gettext("开通后第%(n)s天解锁") % {"n": lesson.release_after_days}
    return ""


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
    # when the right began (the earliest of enrolment and membership): where a drip counts from; None
    # for staff and teachers, who see every lesson at once
    since: datetime | None = None

    @property
    def reason_text(self) -> str:
        return str(REASON_TEXT.get(self.reason, ""))

    def release_time(self, lesson: Lesson) -> datetime | None:
        """When the lesson opens for this user under its drip (None: no drip applies, or no start to
        count from). Days count in Shanghai calendar days: day N opens at 00:00 of the start date + N."""
        if lesson.is_preview or self.via == "staff":
            return None
        if lesson.release_at is not None:
            return lesson.release_at
        if lesson.release_after_days and self.since is not None:
            start = timezone.localtime(self.since).date() + timedelta(days=lesson.release_after_days)
            return timezone.make_aware(datetime.combine(start, time.min))
        return None

    def unlocks_at(self, lesson: Lesson, *, now: datetime | None = None) -> datetime | None:
        """The future moment an unlocked course's lesson opens, or None when it is open (or the course
        is locked: then buying, not waiting, is the way in)."""
        if not self.unlocked:
            return None
        when = self.release_time(lesson)
        if when is None or when <= (now or timezone.now()):
            return None
        return when

    def lesson_locked(self, lesson: Lesson, *, now: datetime | None = None) -> bool:
        if lesson.is_preview:
            return False
        return not self.unlocked or self.unlocks_at(lesson, now=now) is not None


@dataclass(frozen=True)
class LessonAccess:
    allowed: bool
    via: str = ""  # "preview" or CourseAccess.via
    reason: str = ""  # CourseAccess.reason, or "not_released" (entitled, the drip has not reached it)
    course_access: CourseAccess | None = None
    unlocks_at: datetime | None = None  # when reason is "not_released"

    @property
    def reason_text(self) -> str:
        if self.reason == "not_released" and self.unlocks_at is not None:
            return gettext("本课时将于%(when)s") % {"when": unlock_text(self.unlocks_at)}
        return str(REASON_TEXT.get(self.reason, ""))


def course_access(user, course: Course, *, facts: Entitlements | None = None) -> CourseAccess:
    """Unlocked by: staff/teacher, an active enrolment (bought, redeemed with points, granted), or a
    tier of the user's active membership that includes the course (rank-inclusive).

    The member's side comes from `entitlements(user)` (cached); pass `facts` when the caller already
    read them in its own cache round trip.
    """
    if not is_authenticated(user):
        return CourseAccess(False, reason="login")
    if user.is_staff or course.teacher_id == user.pk:
        return CourseAccess(True, via="staff")
    if facts is None:
        facts = entitlements(user)
    source = facts.enrolled.get(course.pk)
    course_tiers = tier_ids_of(course)
    via_tier = bool(course_tiers & facts.tier_ids)
    if source is not None:
        # a drip counts from the earliest right the member holds: a member who bought the course
        # and later joined a tier that includes it keeps what had already opened
        starts = [facts.enrolled_since.get(course.pk), facts.tier_since if via_tier else None]
        since = min((s for s in starts if s is not None), default=None)
        return CourseAccess(True, via=source, entitlements=facts, since=since)
    if via_tier:
        return CourseAccess(True, via="tier", entitlements=facts, since=facts.tier_since)
    if course_tiers and facts.lapsed:
        return CourseAccess(False, reason="membership_expired", entitlements=facts)
    if course.for_sale:
        return CourseAccess(False, reason="buy", entitlements=facts)
    if course_tiers:
        return CourseAccess(False, reason="tier_required", entitlements=facts)
    return CourseAccess(False, reason="unavailable", entitlements=facts)


def lesson_access(
    user, lesson: Lesson, *, course_access_: CourseAccess | None = None, now: datetime | None = None
) -> LessonAccess:
    """THE answer to "may this user open this lesson?": a free preview, or the course is unlocked and
    the lesson's drip has reached it (else "not_released" with the moment it opens)."""
    if lesson.is_preview:
        return LessonAccess(True, via="preview", course_access=course_access_)
    access = course_access_ or course_access(user, lesson.course)
    if not access.unlocked:
        return LessonAccess(False, reason=access.reason, course_access=access)
    unlocks_at = access.unlocks_at(lesson, now=now)
    if unlocks_at is not None:
        return LessonAccess(False, reason="not_released", course_access=access, unlocks_at=unlocks_at)
    return LessonAccess(True, via=access.via, course_access=access)


def catalog(*, user=None) -> QuerySet[Course]:
    """Published courses with teacher, tiers and lesson counts: 2 queries whatever the size."""
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
        if self._count is None:
            builders = {"count": lambda: Course.objects.filter(is_published=True).count()}
            if self.page is not None:
                builders[f"{self.shape}:{self.page[0]}:{self.page[1]}"] = self._rows_builder(*self.page)
            values = cache.get_many_or_build(builders, member=member_facts_read(self.user))
            if "member" in values:
                self._facts = entitlements_of(values.pop("member"))
            self._count = values.pop("count")
            if self.page is not None:
                self._rows[self.page] = next(iter(values.values()))
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
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
    return unlocked_among(user=user, entries=[(c.pk, c.teacher_id, tier_ids_of(c)) for c in courses])


def unlocked_among(
    *, user, entries: list[tuple[int, int, set[int]]], facts: Entitlements | None = None
) -> set[int]:
    """`catalog_unlocked_ids` over (course id, teacher id, tier ids) facts, e.g. from cached rows: the
    same rules as `course_access` (pass `facts` when already read)."""
    if not is_authenticated(user):
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
    return (
        Course.objects.filter(pk=id_or_404(course_id), is_published=True)
        .select_related("teacher")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .first()
    )


def _published_lessons(course):
    """The course's published lessons in reading order (what the course page and its lessons cache hold)."""
    return course.lessons.filter(is_published=True).order_by("position", "id")


def _course_state(course_id) -> dict | bool:
    course = _course_query(course_id)
    return cache.frozen_course(course) if course is not None else False  # a miss is cached too


def course_get(*, course_id) -> Course:
    """A published course with its teacher and tiers, or Http404."""
    state = cache.get_or_build(f"course:{id_or_404(course_id)}", lambda: _course_state(course_id))
    if not state:
        raise Http404
    return cache.thawed_course(state)


def course_get_with_facts(*, course_id, user) -> tuple[Course, Entitlements]:
    """`course_get` and the user's `entitlements` in one cache round trip: for checks made on every
    request, such as the protected media key (courses.media.playback). Http404 as course_get."""
    name = f"course:{id_or_404(course_id)}"
    values = cache.get_many_or_build({name: lambda: _course_state(course_id)}, member=member_facts_read(user))
    if not values[name]:
        raise Http404
    facts = entitlements_of(values["member"]) if "member" in values else NO_ENTITLEMENTS
    return cache.thawed_course(values[name]), facts


def course_page(
    *, course_id, shape: str = "", extra=None, user=None
) -> tuple[Course, list[Lesson], Any, Entitlements]:
    """`course_get` and `course_lessons` in one cache read, plus `extra(course, lessons)` (e.g. an
    API's serialized public part, under its `shape` name) cached with them, and `user`'s
    `entitlements` in the same round trip. Http404 as course_get."""

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

    name = f"page:{shape}:{id_or_404(course_id)}"
    values = cache.get_many_or_build({name: build}, member=member_facts_read(user))
    state = values[name]
    if not state:
        raise Http404
    facts = entitlements_of(values["member"]) if "member" in values else NO_ENTITLEMENTS
    lessons = [cache.thawed(Lesson, lesson) for lesson in state["lessons"]]
    return cache.thawed_course(state["course"]), lessons, state["extra"], facts


def course_lessons(course: Course) -> list[Lesson]:
    """Published lessons in order, from the cache (the course page and the API read them often)."""
    states = cache.get_or_build(
        f"lessons:{course.pk}", lambda: [cache.frozen(x) for x in _published_lessons(course)]
    )
    return [cache.thawed(Lesson, state) for state in states]


def progress_by_lesson(*, user, course: Course) -> dict[int, LessonProgress]:
    if not is_authenticated(user):
        return {}
    return {p.lesson_id: p for p in LessonProgress.objects.filter(user_id=user.pk, course_id=course.pk)}


def completion_percent(*, lessons: list[Lesson], progress: dict[int, LessonProgress]) -> int:
    if not lessons:
        return 0
    done = sum(1 for lesson in lessons if (p := progress.get(lesson.pk)) is not None and p.completed)
    return done * 100 // len(lessons)


def lesson_get(*, lesson_id) -> Lesson:
    """A published lesson of a published course (course and teacher loaded), or Http404."""
    lesson = (
        Lesson.objects.filter(pk=id_or_404(lesson_id), is_published=True, course__is_published=True)
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
    if not is_authenticated(user):
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
    # lesson_count is annotated by catalog(): the stubs cannot see annotations
    return [(c, (done.get(c.pk, 0) * 100 // c.lesson_count) if c.lesson_count else 0) for c in courses]  # type: ignore[attr-defined]
