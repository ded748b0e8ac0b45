"""The history's circle: members who bought it (a few left later) and their join/leave events."""

from __future__ import annotations

from datetime import datetime, timedelta

from circles.models import CircleMembership, CircleMembershipEvent
from sampledata.history.bulk import BATCH


def write_circle(rng, plan, refunded, now, circle) -> None:
    if circle is None:
        return
    members: list[CircleMembership] = []
    events: list[tuple[CircleMembership, str, datetime, str]] = []
    for o in plan.orders:
        if o.item_type != "circle" or o.order_no in refunded:
            continue
        if any(m.user is o.user for m in members):
            continue
        m = CircleMembership(
            circle=circle,
            user=o.user,
            role=CircleMembership.Role.MEMBER,
            joined_at=o.paid_at,
            expires_at=o.paid_at + timedelta(days=circle.duration_days),
            accepted_rules_version=circle.rules_version,
            created_at=o.paid_at,
            updated_at=o.paid_at,
        )
        members.append(m)
        events.append((m, CircleMembershipEvent.Kind.JOINED, o.paid_at, o.order_no))
        if rng.random() < 0.1:
            left = o.paid_at + timedelta(days=rng.uniform(3, 60))
            if left < now:
                m.status, m.left_at, m.updated_at = CircleMembership.Status.LEFT, left, left
                events.append((m, CircleMembershipEvent.Kind.LEFT, left, ""))
    CircleMembership.objects.bulk_create(members, batch_size=BATCH)
    if members and members[0].pk is None:
        ids = dict(CircleMembership.objects.filter(circle=circle).values_list("user_id", "id"))
        for m in members:
            m.pk = m.id = ids[m.user.pk]
    CircleMembershipEvent.objects.bulk_create(
        [
            CircleMembershipEvent(membership=m, circle=circle, kind=kind, order_no=order_no, created_at=at)
            for m, kind, at, order_no in events
        ],
        batch_size=BATCH,
    )
