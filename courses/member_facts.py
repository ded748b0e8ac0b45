"""The member's facts that decide access across courses, events and camps: the active tier ids
(rank-inclusive), active enrolments, a lapsed membership and the tier discount, built in 3 statements
and cached per member (courses/cache.py); `entitlements(fresh=True)` bypasses the cache for money."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from courses import cache
from courses.models import CourseEnrolment
from members.memberships.selectors import active_tier_ids
from members.models import Membership, MembershipTier


def is_authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def user_tier_ids(user) -> set[int]:
    """Ids of every tier the user's active membership includes (rank-inclusive), via members."""
    if not is_authenticated(user):
        return set()

    return set(active_tier_ids(user))


def membership_lapsed(user, now: datetime) -> bool:
    """True when the user had a membership that has ended (to say "renew" rather than "buy")."""
    return Membership.objects.filter(user_id=user.pk, ends_at__lte=now).exists()


@dataclass(frozen=True)
class Entitlements:
    """What decides a member's access to courses, besides the user row itself (staff, teacher).

    tier_ids: every tier the active membership includes (rank-inclusive); enrolled: {course id: source}
    of active enrolments; lapsed: the member had a membership that has ended; tier_name and
    discount_bp: the active tier's single-purchase discount. Cached per member (courses/cache.py).
    enrolled_since and tier_since: when each enrolment and the active membership began — where a
    lesson drip (`release_after_days`) counts from; read by the same statements, no extra query.
    """

    tier_ids: frozenset[int] = frozenset()
    enrolled: dict[int, str] = field(default_factory=dict)
    lapsed: bool = False
    tier_name: str = ""
    discount_bp: int = 0
    enrolled_since: dict[int, datetime] = field(default_factory=dict)
    tier_since: datetime | None = None


NO_ENTITLEMENTS = Entitlements()


def _entitlements_build(user) -> tuple[tuple, datetime | None]:
    """The member's facts as plain values (what the cache stores) and the moment they stop holding by
    themselves (the membership starts or ends); 3 statements, on a cache miss only."""
    now = timezone.now()
    membership = Membership.objects.select_related("tier").filter(user_id=user.pk).first()
    tier_ids, lapsed, name, discount, until, tier_since = [], False, "", 0, None, None
    if membership is not None:
        if membership.starts_at <= now < membership.ends_at:
            tier_since = membership.starts_at
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
            "course_id", "source", "created_at"
        )
    )
    return (tier_ids, enrolled, lapsed, name, discount, tier_since), until


def entitlements_of(state) -> Entitlements:
    tier_ids, enrolled, lapsed, name, discount, tier_since = state
    return Entitlements(
        frozenset(tier_ids),
        {course_id: source for course_id, source, _since in enrolled},
        lapsed,
        name,
        discount,
        {course_id: since for course_id, _source, since in enrolled},
        tier_since,
    )


def member_facts_read(user):
    """The `member=` argument of courses.cache.get_many_or_build for this user (None when anonymous)."""
    return (user.pk, lambda: _entitlements_build(user)) if is_authenticated(user) else None


def entitlements(user, *, fresh: bool = False) -> Entitlements:
    """The member's access facts, from the cache (one round trip) or built and cached; `fresh`: from
    the database, bypassing the cache (what money decisions use)."""
    if not is_authenticated(user):
        return NO_ENTITLEMENTS
    if fresh:
        return entitlements_of(_entitlements_build(user)[0])
    return entitlements_of(cache.get_many_or_build({}, member=member_facts_read(user))["member"])


def tier_ids_of(obj) -> set[int]:
    """Tier ids of an object's `included_in_tiers` (uses a prefetch when there is one)."""
    return {tier.pk for tier in obj.included_in_tiers.all()}
