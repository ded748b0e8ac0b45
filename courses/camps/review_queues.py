"""The teachers' queues: the camps a user reviews, check-ins waiting for a review (点评), check-ins
held by the content check (moderation), and how long reviews take (median wait)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from core.roles import OPERATOR, has_role
from courses.member_facts import is_authenticated
from courses.models import (
    Camp,
    CheckIn,
)


def reviewable_camps(user) -> QuerySet[Camp]:
    if not is_authenticated(user):
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
        if reviewed_at is not None  # always (filtered above): narrows the type
    )
    if not waits:
        return None
    middle = len(waits) // 2
    return waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
