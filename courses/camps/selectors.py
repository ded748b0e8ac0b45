"""Reads of camps: `term_access` (THE answer to what a user may do about a term), camps and terms for
the pages, tasks, the member's calendar, a term's check-in feed and the member's terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import OPERATOR, has_role
from courses.ids import id_or_404
from courses.member_facts import is_authenticated, membership_lapsed, tier_ids_of, user_tier_ids
from courses.models import (
    Camp,
    CampTask,
    CheckIn,
    Source,
    Term,
    TermSeat,
)
from members.models import MembershipTier

_UNSET = object()
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


def certificate_days_needed(term: Term) -> int:
    """Check-in days that complete a term and earn its certificate (the camp's setting, at most the
    term's length; all of its days when the camp sets none)."""
    return min(term.camp.certificate_days or term.days, term.days)


def certificate_seat(access: TermAccess) -> TermSeat | None:
    """THE rule of a completion certificate: the member takes part in the term (`term_access` says
    "joined") and their seat has completed it (`courses.camps.checkins` numbers the certificate when
    the check-ins reach `certificate_days_needed`). The certificate pages, its image, the API and the
    member's camps page all ask this."""
    seat = access.seat if access.joined else None
    if seat is None or not seat.certificate_no:
        return None
    return seat


def camp_can_review(user, camp: Camp) -> bool:
    """The camp's teacher, its reviewers (助教), or operators."""
    if not is_authenticated(user):
        return False
    if user.is_superuser or camp.teacher_id == user.pk:
        return True
    if camp.reviewers.filter(pk=user.pk).exists():
        return True
    return has_role(user, OPERATOR)


def term_seats_taken(term: Term) -> int:
    return TermSeat.objects.filter(term_id=term.pk, status=TermSeat.Status.ACTIVE).count()


def term_access(
    user,
    term: Term,
    *,
    now: datetime | None = None,
    seat=_UNSET,
    tier_ids: set[int] | None = None,
) -> TermAccess:
    """THE answer to "may this user take part in this term?" (pages, API, services, reminders agree).

    A seat obtained through a tier lasts while a tier including the camp is active. A list passes
    what it already read: the user's `seat` (or None) and `tier_ids` (`user_tier_ids`, read once),
    with the camps' `included_in_tiers` prefetched.
    """
    now = now or timezone.now()
    if not is_authenticated(user):
        return TermAccess("login")
    camp = term.camp
    staff = user.is_staff or camp.teacher_id == user.pk
    if seat is _UNSET:
        seat = TermSeat.objects.filter(term_id=term.pk, user_id=user.pk).first()
    camp_tiers = tier_ids_of(camp)
    tier_ok = None  # computed at most once
    if seat is not None and seat.status == TermSeat.Status.ACTIVE:
        if seat.source != Source.TIER:
            return TermAccess("joined", seat, staff)
        tier_ok = bool(camp_tiers & (user_tier_ids(user) if tier_ids is None else tier_ids))
        if tier_ok:
            return TermAccess("joined", seat, staff)
        return TermAccess("membership_expired", seat, staff)
    today = timezone.localdate(now)
    if today > term.end_date:
        return TermAccess("ended", seat, staff)
    if term.capacity is not None and term_seats_taken(term) >= term.capacity:
        return TermAccess("full", seat, staff)
    if tier_ok is None:
        tier_ok = bool(camp_tiers & (user_tier_ids(user) if tier_ids is None else tier_ids))
    if tier_ok:
        return TermAccess("join_free", seat, staff)
    if camp.price_fen > 0:
        if camp_tiers and membership_lapsed(user, now):
            return TermAccess("membership_expired", seat, staff)
        return TermAccess("buy", seat, staff)
    if camp_tiers:
        if membership_lapsed(user, now):
            return TermAccess("membership_expired", seat, staff)
        return TermAccess("tier_required", seat, staff)
    return TermAccess("join", seat, staff)


def camps_listed() -> QuerySet[Camp]:
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
    camp = (
        Camp.objects.filter(pk=id_or_404(camp_id), is_published=True)
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
    term = (
        Term.objects.filter(pk=id_or_404(term_id), is_published=True, camp__is_published=True)
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


def term_feed(*, term: Term, limit: int = 20, before_id: int | None = None) -> list[CheckIn]:
    """Visible check-ins of a term, newest first, with author, task and reviewer (1 query)."""
    checkins = CheckIn.objects.filter(term_id=term.pk, status=CheckIn.Status.VISIBLE)
    if before_id:
        checkins = checkins.filter(id__lt=before_id)
    return list(checkins.select_related("user", "task", "reviewed_by").order_by("-id")[:limit])


@dataclass(frozen=True)
class MyTerm:
    """One of the member's terms on 训练营与证书: what `term_access` says, where the term is (phase
    "running", "upcoming" or "ended"), progress toward the certificate, and today's task while running."""

    seat: TermSeat
    access: TermAccess
    phase: str
    today: date
    task: CampTask | None = None
    checked_in_today: bool = False

    @property
    def term(self) -> Term:
        return self.seat.term

    @property
    def day(self) -> int:
        return self.term.day_number(self.today)

    @property
    def needed(self) -> int:
        return certificate_days_needed(self.term)

    @property
    def streak(self) -> int:
        return self.seat.current_streak(self.today)

    @property
    def certificate(self) -> TermSeat | None:
        return certificate_seat(self.access)


@dataclass(frozen=True)
class MyCamps:
    terms: list[MyTerm]  # running first, then upcoming (soonest first), then ended (latest first)
    certificates: list[MyTerm]  # the terms whose certificate the member holds, latest first


def _term_order(row: MyTerm) -> tuple[int, int]:
    """Running terms first, then those to come (soonest first), then ended ones (latest first)."""
    start = row.term.start_date.toordinal()
    return {"running": 0, "upcoming": 1, "ended": 2}[row.phase], -start if row.phase == "ended" else start


def my_camp_terms(*, user, now: datetime | None = None) -> MyCamps:
    """The member's terms (active seats, each judged by `term_access`) and their certificates
    (`certificate_seat`): 2 statements, a 3rd when a seat came with a tier, 2 more while a term runs
    (today's tasks and check-ins)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    seats = list(
        TermSeat.objects.filter(user_id=user.pk, status=TermSeat.Status.ACTIVE)
        .select_related("term", "term__camp")
        .prefetch_related(
            Prefetch("term__camp__included_in_tiers", queryset=MembershipTier.objects.only("id"))
        )
    )
    tier_ids = user_tier_ids(user) if any(s.source == Source.TIER for s in seats) else set()
    running = [s for s in seats if s.term.start_date <= today <= s.term.end_date]
    tasks: dict[tuple[int, int], CampTask] = {}
    done_today: set[int] = set()
    if running:
        wanted = Q()
        for seat in running:
            wanted |= Q(camp_id=seat.term.camp_id, day=seat.term.day_number(today))
        tasks = {(t.camp_id, t.day): t for t in CampTask.objects.filter(wanted)}
        done_today = set(
            CheckIn.objects.filter(seat_id__in=[s.pk for s in running], day=today).values_list(
                "seat_id", flat=True
            )
        )
    rows = []
    for seat in seats:
        term = seat.term
        access = term_access(user, term, now=now, seat=seat, tier_ids=tier_ids)
        phase = "upcoming" if today < term.start_date else "ended" if today > term.end_date else "running"
        rows.append(
            MyTerm(
                seat,
                access,
                phase,
                today,
                task=tasks.get((term.camp_id, term.day_number(today))) if phase == "running" else None,
                checked_in_today=seat.pk in done_today,
            )
        )
    rows.sort(key=_term_order)
    certificates = sorted(
        (r for r in rows if r.certificate is not None),
        key=lambda r: r.seat.completed_at or now,
        reverse=True,
    )
    return MyCamps(rows, certificates)


def my_terms(*, user) -> QuerySet[TermSeat]:
    return (
        TermSeat.objects.filter(user_id=user.pk, status=TermSeat.Status.ACTIVE)
        .select_related("term", "term__camp")
        .order_by("-term__start_date")
    )
