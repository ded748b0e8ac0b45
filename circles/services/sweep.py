"""The hourly circles sweep: lapsed memberships expire (recorded for churn) and paid questions nobody
answered in time are refunded.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from circles.models import CircleMembership, CircleMembershipEvent
from circles.selectors.questions import paid_questions_due
from circles.services.memberships import membership_event_record
from circles.services.questions import paid_question_expire

Role = CircleMembership.Role
MStatus = CircleMembership.Status
Event = CircleMembershipEvent.Kind
logger = logging.getLogger(__name__)


def circles_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire lapsed memberships (recorded for churn) and refund paid questions nobody answered."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                CircleMembership.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(
                    status=MStatus.ACTIVE,
                    role__in=(Role.MEMBER, Role.TRIAL),
                    via_tier=False,
                    expires_at__lte=now,
                )
                .order_by("pk")[:limit]
            )
            for membership in due:
                old = membership.role
                membership.role = Role.EXPIRED
                membership.save(update_fields=["role", "updated_at"])
                membership_event_record(membership, Event.EXPIRED, was=old, expires_at=membership.expires_at)
            expired += len(due)
        if len(due) < limit:
            break
    refunded = 0
    for question_id in list(paid_questions_due(now=now).values_list("pk", flat=True)[:limit]):
        try:
            if paid_question_expire(question_id=question_id, now=now):
                refunded += 1
        except Exception:  # one broken order must not stop the others' refunds; retried next sweep
            logger.exception("paid question %s: automatic refund failed", question_id)
    return {"expired": expired, "questions_refunded": refunded}
