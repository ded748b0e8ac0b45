"""Tier pages: the tier comparison and one tier with what it costs this user now (thin: selectors in,
services for writes, template out)."""

from urllib.parse import urlencode

from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from core.errors import ApplicationError
from members.memberships import selectors, upgrades
from members.models import MembershipTier
from payments import items


def tiers(request):
    """Tier comparison: every tier's benefits side by side, with what buying it means for this user."""
    rows = upgrades.tier_comparison(request.user)
    benefits = selectors.tier_benefit_lines([row["tier"] for row in rows])
    for row in rows:
        row["benefits"] = benefits[row["tier"].pk]
    return render(
        request,
        "members/tiers.html",
        {"rows": rows, "membership": selectors.active_membership(request.user)},
    )


def tier_detail(request, code: str):
    """One tier and what it costs this user now (start, renew from the end, or upgrade with credit)."""
    tier = get_object_or_404(MembershipTier, code=code, is_active=True)
    quote, refusal = None, ""
    if request.user.is_authenticated:
        try:
            quote = items.quote(user=request.user, item_type="membership", item_id=tier.code)
        except ApplicationError as exc:
            refusal = exc.message
    checkout_url = (
        reverse("payments:checkout") + "?" + urlencode({"item_type": "membership", "item_id": tier.code})
    )
    return render(
        request,
        "members/tier_detail.html",
        {
            "tier": tier,
            "benefits": selectors.tier_benefit_lines([tier])[tier.pk],
            "quote": quote,
            "refusal": refusal,
            "checkout_url": checkout_url,
            "membership": selectors.active_membership(request.user),
        },
    )
