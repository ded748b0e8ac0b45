"""What the site's home page shows: to a visitor, the community, proof and the tiers with what each
really includes; to a member, their membership and the panels the content apps contribute
(`<app>.home`)."""

from __future__ import annotations

from django.utils import timezone

from core.discovery import app_modules
from members.memberships.selectors import membership_for_user, renewal_due, tier_benefit_lines, tiers_for_sale
from members.models import Membership, User


def home_context(user: User) -> dict:
    now = timezone.now()
    tiers = list(tiers_for_sale())
    benefits = tier_benefit_lines(tiers)
    signed_in = getattr(user, "is_authenticated", False)
    membership = membership_for_user(user) if signed_in else None
    active = membership if membership and membership.starts_at <= now < membership.ends_at else None
    rows = []
    for tier in tiers:
        if active is None:
            state = "start"
        elif active.tier.rank == tier.rank:
            state = "current"
        elif active.tier.rank > tier.rank:
            state = "included"
        else:
            state = "upgrade"
        lines = benefits.get(tier.pk, [])
        held = set(benefits.get(active.tier.pk, [])) if active is not None else set()
        # an upgrade shows what it adds, not what the member already has
        rows.append(
            {"tier": tier, "benefits": lines, "extra": [x for x in lines if x not in held], "state": state}
        )
    context: dict = {"tier_rows": rows, "membership": membership, "active": active}
    if active is not None:
        days_left = (active.ends_at - now).days
        context["days_left"] = days_left
        context["renewal_due"] = renewal_due(active, now=now)
    context["lapsed"] = membership is not None and active is None
    for module in app_modules("home"):
        if active is None and hasattr(module, "visitor_panel"):
            context.update(module.visitor_panel())
        if signed_in and hasattr(module, "member_panel"):
            context.update(module.member_panel(user))
    if active is None:
        context["member_count"] = Membership.objects.filter(starts_at__lte=now, ends_at__gt=now).count()
    return context
