"""Tier upgrade pricing and what buying a tier means now: start, renew (from the current end) or upgrade
(the tier's price minus a pro-rata credit for the unused part of the current window), and the offers
and the tier comparison built from it. A lower tier than the active one is not offered."""

from __future__ import annotations

from django.utils import timezone

from members.memberships.selectors import active_membership, days_left, tiers_for_sale
from members.models import Membership, MembershipGrant, MembershipTier, User


def membership_window_value(membership: Membership) -> tuple[int, int]:
    """(cash value, days) of the current tier's window: the basis of upgrade credit.

    The sum over the window's grants still in force (purchases count what was paid plus any upgrade
    credit; operator gifts and points count days but no cash). Memberships without history (created
    before grants were recorded) are valued at the tier's list price for its duration.
    """
    grants = list(
        MembershipGrant.objects.filter(
            membership=membership,
            revoked_at__isnull=True,
            tier=membership.tier,
            starts_after__gte=membership.starts_at,
        ).values_list("value_fen", "days")
    )
    if not grants:
        return membership.tier.price_fen, membership.tier.duration_days
    return sum(value for value, _days in grants), sum(days for _value, days in grants)


def upgrade_credit(
    membership: Membership, *, now=None, window: tuple[int, int] | None = None
) -> tuple[int, int]:
    """(credit in fen, unused days): the unused part of the current membership, pro rata by days, floor.

    `window`: `membership_window_value(membership)` when the caller already has it (lists of offers).
    """
    unused = days_left(membership, now=now)
    value, days = window if window is not None else membership_window_value(membership)
    if unused <= 0 or days <= 0 or value <= 0:
        return 0, unused
    return value * unused // days, unused


class MembershipOffer:
    """What buying `tier` means for this user right now: start, renew or upgrade, and its price."""

    START, RENEW, UPGRADE = "start", "renew", "upgrade"

    def __init__(
        self, *, tier: MembershipTier, kind: str, current: Membership | None, credit_fen=0, unused_days=0
    ):
        self.tier = tier
        self.kind = kind
        self.current = current
        self.unused_days = unused_days
        self.credit_fen = min(credit_fen, tier.price_fen)

    @property
    def list_price_fen(self) -> int:
        return self.tier.price_fen

    @property
    def amount_fen(self) -> int:
        return self.tier.price_fen - self.credit_fen


class LowerTierActive(Exception):
    def __init__(self, membership: Membership, tier: MembershipTier):
        super().__init__(f"{membership.tier.code} active; {tier.code} is lower")
        self.membership = membership
        self.tier = tier


_UNSET = object()


def membership_offer(
    user: User, tier: MembershipTier, *, now=None, current=_UNSET, window: tuple[int, int] | None = None
) -> MembershipOffer:
    """Raises LowerTierActive when the user holds a higher tier (buying lower would waste money).

    Lists of offers pass `current` (`active_membership(user)`) and `window` (its
    `membership_window_value`) read once for every tier.
    """
    now = now or timezone.now()
    if current is _UNSET:
        current = active_membership(user)
    if current is not None and not (current.starts_at <= now < current.ends_at):
        current = None
    if current is None:
        return MembershipOffer(tier=tier, kind=MembershipOffer.START, current=None)
    if current.tier.rank == tier.rank:
        return MembershipOffer(tier=tier, kind=MembershipOffer.RENEW, current=current)
    if current.tier.rank > tier.rank:
        raise LowerTierActive(current, tier)
    credit, unused = upgrade_credit(current, now=now, window=window)
    return MembershipOffer(
        tier=tier, kind=MembershipOffer.UPGRADE, current=current, credit_fen=credit, unused_days=unused
    )


def _offer_basis(user: User, tiers: list[MembershipTier]) -> dict:
    """What every tier's offer needs, read once: the active membership and, when some tier on sale is
    an upgrade, its window value. Keeps lists of offers at a fixed number of queries."""
    current = active_membership(user)
    window = None
    if current is not None and any(tier.rank > current.tier.rank for tier in tiers):
        window = membership_window_value(current)
    return {"current": current, "window": window}


def membership_offers(user: User) -> list[MembershipOffer]:
    """Each tier on sale the user may buy now (renew or upgrade priced); lower tiers are left out."""
    offers = []
    tiers = list(tiers_for_sale())
    basis = _offer_basis(user, tiers)
    for tier in tiers:
        try:
            offers.append(membership_offer(user, tier, **basis))
        except LowerTierActive:
            continue
    return offers


def tier_comparison(user: User) -> list[dict]:
    """Rows for the tier comparison page: each tier with the user's offer or why it is not offered."""
    rows = []
    tiers = list(tiers_for_sale())
    basis = _offer_basis(user, tiers)
    for tier in tiers:
        try:
            offer = membership_offer(user, tier, **basis)
        except LowerTierActive as exc:
            rows.append({"tier": tier, "offer": None, "included_in": exc.membership.tier})
        else:
            rows.append({"tier": tier, "offer": offer, "included_in": None})
    return rows
