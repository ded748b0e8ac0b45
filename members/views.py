"""Member-facing pages that bring every subject together: the home page and the account hub (thin:
selectors in, services for writes, template out)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.discovery import app_modules
from members import home_page
from members.memberships import selectors as membership_selectors
from members.memberships import upgrades
from members.notifications import selectors as notification_selectors
from members.onboarding import selectors as onboarding_selectors
from members.points import selectors as points_selectors
from payments.wallet import ledger


def home(request):
    """A home that knows who is looking: a visitor sees what the community is, proof and the tiers
    with what each really includes; a member sees where to continue, today's camp task, what is new
    in their circles, their next ticket, and a renewal only near the end. Fixed statement count."""
    context = home_page.home_context(request.user)
    if context["active"] is None:  # a visitor who came through a share link sees who invited them
        for module in app_modules("home"):
            if hasattr(module, "request_panel"):
                context.update(module.request_panel(request))
    return render(request, "members/home.html", context)


@login_required
def account(request):
    membership = membership_selectors.membership_for_user(request.user)
    active = membership_selectors.active_membership(request.user)
    # Upgrades are always offered; the renewal only near the end (or once lapsed), not a year ahead.
    offers = [
        offer
        for offer in upgrades.membership_offers(request.user)
        if offer.kind != "renew" or membership_selectors.renewal_due(membership)
    ]
    return render(
        request,
        "members/account.html",
        {
            "membership": membership,
            "active": active,
            "days_left": membership_selectors.days_left(membership),
            "offers": offers,
            "checklist": onboarding_selectors.onboarding_checklist(request.user),
            "points": points_selectors.points_balance(request.user),
            "wallet": ledger.balances(request.user),
            "unread_count": notification_selectors.unread_notifications_count(request.user),
            "grants": list(membership_selectors.membership_grants(membership)[:10]) if membership else [],
        },
    )
