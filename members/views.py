"""Member-facing pages (thin: selectors in, template out)."""

from django.shortcuts import render

from members.selectors import active_membership, tiers_for_sale


def home(request):
    return render(
        request,
        "members/home.html",
        {
            "tiers": tiers_for_sale(),
            "membership": active_membership(request.user),
        },
    )
