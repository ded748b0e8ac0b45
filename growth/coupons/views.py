"""Coupon pages: 我的优惠券 (/growth/coupons/) and a claim link (/growth/coupons/claim/<token>/). The
checkout's coupon picker is the `coupon_picker` tag (growth/templatetags/coupons.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from growth.coupons import issuing, selectors
from growth.models import Coupon, MemberCoupon

# Where a coupon for a whole kind of item is spent: that kind's catalogue.
CATALOGUES = {
    "membership": "members:tiers",
    "course": "courses:catalog",
    "event": "courses:events",
    "camp": "courses:camps",
    "circle": "circles:list",
}


def use_url(copy: MemberCoupon) -> str:
    """Where "去使用" goes: the checkout with the coupon chosen when it is for one item, else the
    catalogue of the one kind it is for, else the home page."""
    coupon = copy.coupon
    if len(coupon.items) == 1 and ":" in coupon.items[0]:
        item_type, item_id = coupon.items[0].split(":", 1)
        query = urlencode({"item_type": item_type, "item_id": item_id, "coupon": copy.code})
        return f"{reverse('payments:checkout')}?{query}"
    if len(coupon.item_types) == 1 and coupon.item_types[0] in CATALOGUES:
        return reverse(CATALOGUES[coupon.item_types[0]])
    return "/"


@login_required
def my_coupons(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    groups: dict[str, list[dict]] = {state: [] for state in MemberCoupon.State.values}
    for copy in selectors.coupons_mine(request.user, now=now)[:200]:
        state = copy.state_at(now)
        groups[state].append(
            {
                "copy": copy,
                "value": selectors.value_text(copy.coupon),
                "applies_to": selectors.applies_to_text(copy.coupon),
                "use_url": use_url(copy) if state == MemberCoupon.State.AVAILABLE else "",
            }
        )
    labels = dict(MemberCoupon.State.choices)
    sections = [(state, labels[state], rows) for state, rows in groups.items() if rows]
    return render(request, "growth/my_coupons.html", {"sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    coupon = Coupon.objects.filter(claim_token=token, claim_enabled=True).first()
    if coupon is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            issuing.coupon_claim(user=request.user, token=token)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, _("领取成功：%(name)s") % {"name": coupon.name})
            return redirect("growth:my_coupons")
    context = {
        "coupon": coupon,
        "value": selectors.value_text(coupon),
        "applies_to": selectors.applies_to_text(coupon),
        "error": error,
    }
    return render(request, "growth/coupon_claim.html", context, status=400 if error else 200)
