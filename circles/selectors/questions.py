"""Reading paid questions: those a member asked or must answer, and those past their deadline."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from circles.models import PaidQuestion


def paid_questions_for_user(*, user, role: str = ""):
    """Paid questions the user asked (`asked`), must answer (`to_answer`), or both; newest first."""
    if role == "asked":
        rows = PaidQuestion.objects.filter(asker=user)
    elif role == "to_answer":
        rows = PaidQuestion.objects.filter(guest=user).exclude(status=PaidQuestion.Status.CREATED)
    else:
        rows = PaidQuestion.objects.filter(
            Q(asker=user) | (Q(guest=user) & ~Q(status=PaidQuestion.Status.CREATED))
        )
    return rows.select_related("asker", "guest").order_by("-created_at", "-id")


def paid_questions_due(*, now: datetime):
    return PaidQuestion.objects.filter(status=PaidQuestion.Status.OPEN, deadline__lte=now)
