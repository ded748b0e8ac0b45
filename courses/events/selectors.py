"""Reads of offline events: `event_access` (THE answer to what a user may do about an event), seats
taken, tier quotas per membership year, lists, tickets and attendance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.roles import OPERATOR, has_role
from courses.ids import id_or_404
from courses.member_facts import is_authenticated, membership_lapsed, tier_ids_of, user_tier_ids
from courses.models import (
    Event,
    EventRegistration,
    Source,
    TierEventQuota,
)
from members.memberships.selectors import active_membership
from members.models import MembershipTier

_UNSET = object()
MEMBERSHIP_YEAR = timedelta(days=365)


def tier_ticket_covered(user, event: Event, *, tier_ids: set[int] | None = None) -> bool:
    """True while an active tier of the user includes the event: what a tier-included ticket
    (`EventRegistration.source == tier`) rests on. Checked at the door and after refunds; a list of
    tickets passes the user's `tier_ids` (read once) with the events' tiers prefetched."""
    if tier_ids is None:
        tier_ids = user_tier_ids(user)
    return bool(tier_ids_of(event) & tier_ids)


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


def _takes_seat(now: datetime, prefix: str = "") -> Q:
    """Registrations that take a seat: confirmed ones and payment holds that have not expired
    (`prefix` reaches them from another model, e.g. "registrations__")."""
    R = EventRegistration.Status
    return Q(**{f"{prefix}status": R.CONFIRMED}) | Q(
        **{f"{prefix}status": R.PENDING, f"{prefix}hold_expires_at__gt": now}
    )


def event_seats_taken(event: Event, *, now: datetime | None = None) -> int:
    """Confirmed registrations plus unexpired payment holds (call under the event lock when writing)."""
    now = now or timezone.now()
    return EventRegistration.objects.filter(_takes_seat(now), event_id=event.pk).count()


def membership_year_start(membership, now: datetime) -> datetime:
    """Start of the current membership year (years counted from the membership's start)."""
    elapsed = max(timedelta(0), now - membership.starts_at)
    return membership.starts_at + MEMBERSHIP_YEAR * (elapsed // MEMBERSHIP_YEAR)


def tier_event_quota(user, *, now: datetime | None = None) -> tuple[int | None, int]:
    """(events per membership year or None for unlimited, tier-included registrations used this year)."""
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


def event_access(
    user,
    event: Event,
    *,
    now: datetime | None = None,
    registration=_UNSET,
    seats_taken: int | None = None,
) -> EventAccess:
    """THE answer to "what may this user do about this event?" (pages, API and services).

    A list passes what it already read: the user's `registration` (or None) and the event's
    `seats_taken` (`_takes_seat`, e.g. annotated by `my_ticket_list`)."""
    now = now or timezone.now()
    payable = event.price_fen > 0
    if seats_taken is None:
        seats_taken = event_seats_taken(event, now=now)
    seats_left = max(0, event.capacity - seats_taken)
    if not is_authenticated(user):
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
    event_tiers = tier_ids_of(event)
    if event_tiers and event_tiers & user_tier_ids(user):
        limit, used = tier_event_quota(user, now=now)
        if limit is None or used < limit:
            return EventAccess("free_for_member", registration, seats_left, limit, used, payable=payable)
        if event.price_fen > 0:
            return EventAccess("buy", registration, seats_left, limit, used, payable=payable)
        return EventAccess("quota_used", registration, seats_left, limit, used, payable=payable)
    if event.price_fen > 0:
        if event_tiers and membership_lapsed(user, now):
            return EventAccess("membership_expired", registration, seats_left, payable=payable)
        return EventAccess("buy", registration, seats_left, payable=payable)
    if event_tiers:
        if membership_lapsed(user, now):
            return EventAccess("membership_expired", registration, seats_left, payable=payable)
        return EventAccess("tier_required", registration, seats_left, payable=payable)
    return EventAccess("free", registration, seats_left, payable=payable)


def events_listed(*, now: datetime | None = None, include_past: bool = False) -> QuerySet[Event]:
    now = now or timezone.now()
    events = Event.objects.filter(is_published=True)
    if not include_past:
        events = events.filter(ends_at__gt=now)
    return (
        events.prefetch_related(
            Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank"))
        )
        .annotate(seats_taken=Count("registrations", filter=_takes_seat(now, "registrations__")))
        .order_by("starts_at", "id")
    )


def event_get(*, event_id) -> Event:
    event = (
        Event.objects.filter(pk=id_or_404(event_id), is_published=True)
        .select_related("organizer")
        .prefetch_related(Prefetch("included_in_tiers", queryset=MembershipTier.objects.order_by("rank")))
        .first()
    )
    if event is None:
        raise Http404
    return event


def event_can_check_in(user, event: Event) -> bool:
    """Organizer, the event's check-in staff, or operators (superusers / 运营 role)."""
    if not is_authenticated(user):
        return False
    if user.is_superuser or event.organizer_id == user.pk:
        return True
    if event.staff.filter(pk=user.pk).exists():
        return True
    return has_role(user, OPERATOR)


def my_tickets(*, user) -> QuerySet[EventRegistration]:
    R = EventRegistration.Status
    return (
        EventRegistration.objects.filter(user_id=user.pk, status__in=[R.CONFIRMED, R.PENDING, R.WAITLISTED])
        .select_related("event")
        .prefetch_related(
            Prefetch("event__included_in_tiers", queryset=MembershipTier.objects.order_by("rank"))
        )
        .order_by("event__starts_at")
    )


TICKET_STATE_TEXT = {
    "valid": pgettext_lazy("ticket", "有效"),
    "checked_in": _("已签到"),
    "membership_ended": _("会员已结束，不能入场"),
    "ended": _("活动已结束"),
    "pending_payment": _("待支付"),
    "waitlisted": _("候补中"),
    "cancelled": _("已取消"),
    "refunded": _("已退款"),
    "invalid": _("门票不可用"),
}


@dataclass(frozen=True)
class TicketRow:
    """One registration on the member's tickets page and what it is worth now.

    state: "valid" (a ticket to show at the door), "checked_in", "membership_ended" (a tier-included
    ticket whose tier has ended: refused at the door), "ended" (the event is over), "pending_payment",
    "waitlisted", "cancelled", "refunded", "invalid" (anything else `event_access` refuses).
    """

    registration: EventRegistration
    state: str

    @property
    def event(self) -> Event:
        return self.registration.event

    @property
    def valid(self) -> bool:
        return self.state == "valid"

    @property
    def state_text(self) -> str:
        return str(TICKET_STATE_TEXT.get(self.state, ""))

    @property
    def css(self) -> str:
        """The badge's tone: a ticket that will not get the member in is never shown in green."""
        if self.state in ("cancelled", "refunded", "membership_ended", "invalid"):
            return "danger"
        if self.state in ("pending_payment", "waitlisted", "ended"):
            return "warn"
        return ""


@dataclass(frozen=True)
class MyTickets:
    upcoming: list[TicketRow]  # events still to come or under way, soonest first
    past: list[TicketRow]  # events that are over, latest first
    ended: list[TicketRow]  # cancelled and refunded registrations, never tickets

    @property
    def empty(self) -> bool:
        return not (self.upcoming or self.past or self.ended)


def _ticket_state(user, registration: EventRegistration, *, now: datetime, tier_ids: set[int]) -> str:
    R = EventRegistration.Status
    if registration.status in (R.CANCELLED, R.REFUNDED):
        return registration.status
    if registration.status != R.CONFIRMED:
        # a held seat or a waitlist place: what to do about it is on the event's page
        return "pending_payment" if registration.status == R.PENDING else "waitlisted"
    event = registration.event
    access = event_access(
        user,
        event,
        now=now,
        registration=registration,
        seats_taken=registration.seats_taken,  # type: ignore[attr-defined]
    )
    if not access.has_ticket:
        return "invalid"
    if registration.checked_in_at is not None:
        return "checked_in"
    if now >= event.ends_at:
        return "ended"
    if registration.source == Source.TIER and not tier_ticket_covered(user, event, tier_ids=tier_ids):
        return "membership_ended"
    return "valid"


def my_ticket_list(*, user, now: datetime | None = None) -> MyTickets:
    """Every registration of the member (电子票 page): tickets of events to come first, then those of
    events that are over, then what was cancelled or refunded. A ticket is one `event_access` says the
    member holds, and a tier-included one also needs its tier (`tier_ticket_covered`), as at the door.
    3 statements, a 4th when there is a tier-included ticket."""
    now = now or timezone.now()
    seats = (
        EventRegistration.objects.filter(_takes_seat(now), event_id=OuterRef("event_id"))
        .order_by()
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    registrations = list(
        EventRegistration.objects.filter(user_id=user.pk)
        .select_related("event")
        .prefetch_related(Prefetch("event__included_in_tiers", queryset=MembershipTier.objects.only("id")))
        .annotate(seats_taken=Coalesce(Subquery(seats, output_field=IntegerField()), 0))
        .order_by("event__starts_at", "id")
    )
    R = EventRegistration.Status
    tier_ids = (
        user_tier_ids(user)
        if any(r.source == Source.TIER and r.status == R.CONFIRMED for r in registrations)
        else set()
    )
    upcoming, past, ended = [], [], []
    for registration in registrations:
        row = TicketRow(registration, _ticket_state(user, registration, now=now, tier_ids=tier_ids))
        if row.state in (R.CANCELLED, R.REFUNDED):
            ended.append(row)
        elif now < registration.event.ends_at:
            upcoming.append(row)
        else:
            past.append(row)
    past.reverse()
    ended.reverse()
    return MyTickets(upcoming, past, ended)


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
