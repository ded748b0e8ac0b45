"""Locks of the referrals app, always taken in the same order (Saleor `checkout/lock_objects.py`).

Order: payments.Order (taken by payments) → GroupBuy → GroupBuyMember; the binding graph lock is
taken alone. Bindings are rare (sign-ups, first purchases), so one transaction-scoped advisory
lock for the whole graph is cheap and makes cycle checks exact even for A→B→C→A races.
"""

from __future__ import annotations

from django.db import connection

from referrals.models import GroupBuy, GroupBuyMember

# An arbitrary constant: pg_advisory_xact_lock key of the referral graph.
BINDING_GRAPH_LOCK_KEY = 0x5A51_0001


def lock_binding_graph() -> None:
    """Serialize binding writes until the end of the current transaction (PostgreSQL).

    SQLite (the embedded demo) serializes writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BINDING_GRAPH_LOCK_KEY])


def lock_group(group_id: int) -> GroupBuy:
    return GroupBuy.objects.select_for_update(of=("self",)).select_related("offer").get(pk=group_id)


def lock_seat(seat_id: int) -> GroupBuyMember:
    return GroupBuyMember.objects.select_for_update(of=("self",)).get(pk=seat_id)
