"""Member numbers (会员编号): `VIP-000123`, gap-free per tier prefix, assigned once and never reused."""

from __future__ import annotations

from members.models import MemberNumberSequence, MembershipTier, User


def member_no_assign(*, user: User, tier: MembershipTier) -> str:
    """Give the (locked) user the next number of the tier's prefix: `VIP-000123`. Never reused."""
    if user.member_no:
        return user.member_no
    prefix = tier.member_no_prefix.strip().upper() or tier.code.upper()
    MemberNumberSequence.objects.get_or_create(prefix=prefix)
    sequence = MemberNumberSequence.objects.select_for_update(of=("self",)).get(prefix=prefix)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    user.member_no = f"{prefix}-{sequence.last_value:06d}"
    User.objects.filter(pk=user.pk).update(member_no=user.member_no)
    return user.member_no
