"""Camp term leaderboards: the ranked seats of a term and one member's rank (indexed on points,
check-in days and best streak)."""

from __future__ import annotations

from django.db.models import Q

from courses.models import (
    Term,
    TermSeat,
)

LEADERBOARD_SIZE = 50


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
