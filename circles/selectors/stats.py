"""An owner's numbers: the contributor leaderboard (KOLs) and the circle's stats (members, churn
退群率, posts per day, tips).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from circles.models import (
    Circle,
    CircleGrant,
    CircleMembership,
    CircleMembershipEvent,
    Post,
    PostLike,
    TipIntent,
)
from circles.selectors.posts import FEED_AUTHOR_FIELDS
from members.models import Membership, User

Role = CircleMembership.Role
MStatus = CircleMembership.Status

PERIODS = {"7d": 7, "30d": 30, "all": None}


def leaderboard(*, circle: Circle, period: str = "7d", limit: int = 100) -> list[dict]:
    """Top contributors (KOLs) by posts, likes received (not their own), posts featured and tips
    received in the last 7 / 30 days or all time. A fixed 5 queries whatever the circle holds."""
    days = PERIODS.get(period, 7)
    since = timezone.now() - timedelta(days=days) if days else None
    posts = Post.objects.filter(circle=circle, status=Post.Status.VISIBLE)
    # likes of one's own posts do not count
    likes = PostLike.objects.filter(post__circle=circle, post__status=Post.Status.VISIBLE).exclude(
        user_id=F("post__author_id")
    )
    tips = TipIntent.objects.filter(circle=circle, status=TipIntent.Status.PAID)
    written, featured = Q(), Q(is_featured=True)
    if since:
        # posts written in the period, and posts made 精华 in the period (whenever they were written)
        written, featured = Q(created_at__gte=since), Q(is_featured=True, featured_at__gte=since)
        posts = posts.filter(written | featured)
        likes = likes.filter(created_at__gte=since)
        tips = tips.filter(paid_at__gte=since)
    scores: dict[int, dict] = {}

    def row(uid: int) -> dict:
        return scores.setdefault(
            uid, {"user_id": uid, "posts": 0, "likes": 0, "featured": 0, "tips_fen": 0, "tips": 0}
        )

    counted = posts.values("author_id").annotate(
        n=Count("id", filter=written), f=Count("id", filter=featured)
    )
    for item in counted:
        r = row(item["author_id"])
        r["posts"], r["featured"] = item["n"], item["f"]
    for item in likes.values("post__author_id").annotate(n=Count("id")):
        row(item["post__author_id"])["likes"] = item["n"]
    for item in tips.values("recipient_id").annotate(n=Count("id"), s=Sum("amount_fen")):
        r = row(item["recipient_id"])
        r["tips"], r["tips_fen"] = item["n"], item["s"] or 0
    for r in scores.values():
        # Weighted contribution score: featured posts and tips count most.
        r["score"] = r["posts"] * 2 + r["likes"] + r["featured"] * 10 + r["tips"] * 5
    ranked = sorted(scores.values(), key=lambda r: (-r["score"], r["user_id"]))[:limit]

    users = User.objects.only(*FEED_AUTHOR_FIELDS).in_bulk([r["user_id"] for r in ranked])
    roles = dict(
        CircleMembership.objects.filter(circle=circle, user_id__in=users.keys()).values_list(
            "user_id", "role"
        )
    )
    if circle.owner_id in users:
        roles[circle.owner_id] = Role.OWNER
    for position, r in enumerate(ranked, start=1):
        r["rank"] = position
        r["user"] = users.get(r["user_id"])
        r["nickname"] = r["user"].display_name if r["user"] else ""
        r["role"] = roles.get(r["user_id"], "")
    return ranked


@dataclass(frozen=True)
class CircleStats:
    members: int  # paying members, trials and staff active now
    tier_members: int  # members who came in through their membership tier, with that tier still active
    trials: int
    guests: int
    joined: int  # first-time and returning joins in the period
    renewed: int
    base: int  # paying members at the start of the period
    churned: int  # of `base`: left + removed + lapsed by the end of the period
    left: int
    removed: int
    lapsed: int  # paid time ran out without renewing
    churn_bp: int  # 退群率 = churned / base
    posts: int
    posts_per_day: float
    tips_count: int
    tips_fen: int
    days: int


def circle_stats(*, circle: Circle, days: int = 30, now: datetime | None = None) -> CircleStats:
    """An owner's numbers for the last `days` days (ending `now`), in at most 7 queries.

    Churn (退群率): of the members who were paying at the start of the period (a paid, not refunded
    purchase covering that moment, and not left or removed before it), the share who by the end have
    left, been removed, or let their paid time run out without renewing. Trials, staff without a
    purchase and tier-included members are not paying members; a member who left and came back
    within the period is not churned.
    """
    now = now or timezone.now()
    start = now - timedelta(days=days)
    Kind = CircleMembershipEvent.Kind
    active = CircleMembership.objects.filter(circle=circle, status=MStatus.ACTIVE)
    lowest_rank = circle.included_in_tiers.order_by("rank").values_list("rank", flat=True).first()
    tier_active = Exists(
        Membership.objects.filter(
            user_id=OuterRef("user_id"),
            starts_at__lte=now,
            ends_at__gt=now,
            tier__rank__gte=lowest_rank if lowest_rank is not None else 2**31,
        )
    )
    now_counts = active.aggregate(
        members=Count(
            "id",
            filter=Q(role__in=CircleMembership.STAFF_ROLES) | Q(via_tier=False, expires_at__gt=now),
        ),
        trials=Count("id", filter=Q(role=Role.TRIAL, expires_at__gt=now)),
        guests=Count("id", filter=Q(role=Role.GUEST)),
    )
    tier_members = (
        active.filter(via_tier=True)
        .exclude(role__in=CircleMembership.STAFF_ROLES)
        .filter(tier_active)
        .count()
        if lowest_rank is not None
        else 0
    )
    paying_at_start = Exists(
        CircleGrant.objects.filter(
            membership_id=OuterRef("pk"), revoked_at__isnull=True, created_at__lte=start, expires_at__gt=start
        )
    )
    churn = (
        CircleMembership.objects.filter(circle=circle)
        .exclude(user_id=circle.owner_id)
        .filter(paying_at_start)
        .exclude(Q(status=MStatus.LEFT, left_at__lt=start) | Q(status=MStatus.REMOVED, removed_at__lt=start))
        .aggregate(
            base=Count("id"),
            left=Count("id", filter=Q(status=MStatus.LEFT)),
            removed=Count("id", filter=Q(status=MStatus.REMOVED)),
            lapsed=Count(
                "id",
                filter=Q(status=MStatus.ACTIVE, expires_at__lte=now)
                & ~Q(role__in=CircleMembership.STAFF_ROLES),
            ),
        )
    )
    churned = churn["left"] + churn["removed"] + churn["lapsed"]
    events = CircleMembershipEvent.objects.filter(
        circle=circle, created_at__gte=start, created_at__lt=now
    ).aggregate(
        joined=Count("id", filter=Q(kind=Kind.JOINED)),
        renewed=Count("id", filter=Q(kind=Kind.RENEWED)),
    )
    posts = Post.objects.filter(
        circle=circle, created_at__gte=start, created_at__lt=now, status=Post.Status.VISIBLE
    ).count()
    tips = TipIntent.objects.filter(
        circle=circle, status=TipIntent.Status.PAID, paid_at__gte=start, paid_at__lt=now
    ).aggregate(n=Count("id"), s=Sum("amount_fen"))
    return CircleStats(
        members=now_counts["members"],
        tier_members=tier_members,
        trials=now_counts["trials"],
        guests=now_counts["guests"],
        joined=events["joined"],
        renewed=events["renewed"],
        base=churn["base"],
        churned=churned,
        left=churn["left"],
        removed=churn["removed"],
        lapsed=churn["lapsed"],
        churn_bp=churned * 10_000 // churn["base"] if churn["base"] else 0,
        posts=posts,
        posts_per_day=round(posts / days, 2) if days else 0,
        tips_count=tips["n"] or 0,
        tips_fen=tips["s"] or 0,
        days=days,
    )
