"""The history's memberships: each buyer's membership and its grants (start, renewal, upgrade), replayed
in time order from the plan's membership events, and member numbers for everyone who held one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from members.models import MemberNumberSequence, Membership, MembershipGrant, MembershipTier, User
from sampledata.history.bulk import BATCH


def write_memberships(plan, refunded, tiers, tag) -> int:
    memberships: list[Membership] = []
    # (membership, kind, tier before, starts before, ends before, at, order)
    grants: list[tuple[Any, ...]] = []
    first_tiers: dict[str, MembershipTier] = {}
    by_name = {u.username: u for u in plan.users}
    for username, events in plan.membership_events.items():
        user = by_name[username]
        events = sorted(events, key=lambda e: e[2])
        tier: MembershipTier | None = None
        starts: datetime | None = None
        ends: datetime | None = None
        rows = []
        for kind, new_tier, at, order in events:
            if order.order_no in refunded:
                continue  # refunded purchases leave no membership (their grant would be revoked)
            before = (tier, starts, ends)
            days = new_tier.duration_days
            if kind == "renew" and ends is not None and ends > at:
                kind, ends = MembershipGrant.Kind.RENEW, ends + timedelta(days=days)
            elif kind == "upgrade" and ends is not None and ends > at:
                kind, tier, starts, ends = (
                    MembershipGrant.Kind.UPGRADE,
                    new_tier,
                    at,
                    at + timedelta(days=days),
                )
            else:
                kind, tier, starts, ends = MembershipGrant.Kind.START, new_tier, at, at + timedelta(days=days)
            rows.append((kind, before, at, order))
        if not rows:
            continue
        first_tiers[username] = tiers[rows[0][3].item_id]
        assert tier is not None and starts is not None and ends is not None  # set by the first row
        membership = Membership(
            user=user,
            tier=tier,
            starts_at=starts,
            ends_at=ends,
            created_at=rows[0][2],
            updated_at=rows[-1][2],
        )
        memberships.append(membership)
        for kind, (t_before, s_before, e_before), at, order in rows:
            grants.append((membership, kind, t_before, s_before, e_before, at, order))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    if memberships and memberships[0].pk is None:
        ids = dict(
            Membership.objects.filter(user__in=[m.user for m in memberships]).values_list("user_id", "id")
        )
        for m in memberships:
            m.pk = m.id = ids[m.user.pk]
    # Recompute each grant's window after (the running state per membership, in order).
    objs = []
    for membership, kind, t_before, s_before, e_before, at, order in grants:
        t_obj = tiers[order.item_id]
        if kind == MembershipGrant.Kind.RENEW:
            s_after, e_after = s_before, e_before + timedelta(days=t_obj.duration_days)
        else:
            s_after, e_after = at, at + timedelta(days=t_obj.duration_days)
        objs.append(
            MembershipGrant(
                membership=membership,
                user=membership.user,
                order=order,
                kind=kind,
                source=MembershipGrant.Source.PURCHASE,
                tier=t_obj,
                tier_before=t_before,
                starts_before=s_before,
                ends_before=e_before,
                starts_after=s_after,
                ends_after=e_after,
                days=t_obj.duration_days,
                value_fen=order.amount_fen,
                reason=order.title,
                created_at=at,
            )
        )
    MembershipGrant.objects.bulk_create(objs, batch_size=BATCH)
    # Member numbers for everyone who ever held a membership, as real ones are given (VIP-000123: the
    # next of the first tier's prefix, members.memberships.member_numbers), in the order they joined.
    numbered = []
    sequences: dict[str, MemberNumberSequence] = {}
    for m in sorted(memberships, key=lambda m: m.created_at):
        tier = first_tiers[m.user.username]
        prefix = tier.member_no_prefix.strip().upper() or tier.code.upper()
        if prefix not in sequences:
            MemberNumberSequence.objects.get_or_create(prefix=prefix)
            sequences[prefix] = MemberNumberSequence.objects.select_for_update(of=("self",)).get(
                prefix=prefix
            )
        sequences[prefix].last_value += 1
        m.user.member_no = f"{prefix}-{sequences[prefix].last_value:06d}"
        numbered.append(m.user)
    for sequence in sequences.values():
        sequence.save(update_fields=["last_value"])
    User.objects.bulk_update(numbered, ["member_no"], batch_size=BATCH)
    return len(objs)
