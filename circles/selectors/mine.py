"""The member's own circles (我的圈子): those they own, those they may read (paid, trial, staff or
included in their tier) and those whose membership has run out, each with its newest post.

Whether a circle is the member's is decided for every row by `circle_access`, the one rule of the
circle pages and the API; this module only gathers the candidates, in a fixed number of statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.utils import timezone

from circles.models import Circle, CircleMembership, Post
from circles.selectors.access import CircleAccess, circle_access
from members.memberships.selectors import active_tier_ids
from members.models import MembershipTier

# "New" posts are what others posted in the last days: there is no read marker per member to count
# unread ones from, and a count of the week says whether a circle is alive.
NEW_POST_DAYS = 7


@dataclass(frozen=True)
class MyCircle:
    """One of the member's circles, what `circle_access` says they may do there, and its activity."""

    circle: Circle
    access: CircleAccess
    latest_post_id: int | None = None
    latest_post_text: str = ""
    latest_post_at: datetime | None = None
    new_posts: int = 0


@dataclass(frozen=True)
class MyCircles:
    owned: list[MyCircle] = field(default_factory=list)
    joined: list[MyCircle] = field(default_factory=list)
    expired: list[MyCircle] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.owned or self.joined or self.expired)


def _candidates(user, *, tier_ids: set[int], now: datetime) -> list[Circle]:
    """Published circles the user owns, has a row in, or whose tiers include theirs, with the newest
    visible post and the count of others' posts of the last NEW_POST_DAYS (1 statement); the user's
    own row and the circles' tiers are prefetched (2 more)."""
    newest = Post.objects.filter(circle_id=OuterRef("pk"), status=Post.Status.VISIBLE).order_by(
        "-created_at", "-id"
    )
    recent = (
        Post.objects.filter(
            circle_id=OuterRef("pk"),
            status=Post.Status.VISIBLE,
            created_at__gte=now - timedelta(days=NEW_POST_DAYS),
        )
        .exclude(author_id=user.pk)
        .order_by()
        .values("circle_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    in_tier = Circle.included_in_tiers.through.objects.filter(membershiptier_id__in=tier_ids).values(
        "circle_id"
    )
    mine = CircleMembership.objects.filter(user_id=user.pk).values("circle_id")
    wanted = Q(owner_id=user.pk) | Q(pk__in=mine)
    if tier_ids:
        wanted |= Q(pk__in=in_tier)
    return list(
        Circle.objects.filter(wanted, is_published=True)
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=CircleMembership.objects.filter(user_id=user.pk),
                to_attr="own_rows",
            ),
            Prefetch("included_in_tiers", queryset=MembershipTier.objects.only("id")),
        )
        .annotate(
            latest_post_id=Subquery(newest.values("pk")[:1]),
            latest_post_text=Subquery(
                newest.annotate(text=Coalesce(NullIf("title", Value("")), Substr("body", 1, 40))).values(
                    "text"
                )[:1]
            ),
            latest_post_at=Subquery(newest.values("created_at")[:1]),
            new_post_count=Coalesce(Subquery(recent, output_field=IntegerField()), 0),
        )
        .order_by(F("latest_post_at").desc(nulls_last=True), "name", "pk")
    )


def my_circles(*, user, now: datetime | None = None) -> MyCircles:
    """The member's circles in three groups: owned, readable (newest activity first) and run out
    (a membership that expired, was refunded or left). Removed memberships are not listed. 4 statements."""
    now = now or timezone.now()
    tier_ids = active_tier_ids(user)
    groups = MyCircles()
    for circle in _candidates(user, tier_ids=tier_ids, now=now):
        own = circle.own_rows[0] if circle.own_rows else None  # type: ignore[attr-defined]
        access = circle_access(user, circle, now=now, membership=own, tier_ids=tier_ids)
        row = MyCircle(
            circle,
            access,
            circle.latest_post_id,  # type: ignore[attr-defined]
            circle.latest_post_text or "",  # type: ignore[attr-defined]
            circle.latest_post_at,  # type: ignore[attr-defined]
            circle.new_post_count,  # type: ignore[attr-defined]
        )
        if access.is_owner:
            groups.owned.append(row)
        elif access.can_read:
            groups.joined.append(row)
        elif access.reason == "expired":
            groups.expired.append(row)
    return groups
