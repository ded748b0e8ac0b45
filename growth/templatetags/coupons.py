"""The checkout's coupon picker: `{% load coupons %}{% usable_coupons as offers %}` in
templates/payments/checkout.html gives the member's coupons usable for the item on the page, each with
the price it gives. A tag, so payments (below growth) shows coupons without importing growth."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from core.errors import ApplicationError
from growth.coupons import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def usable_coupons(context) -> list[dict]:
    request = context.get("request")
    item_type, item_id = context.get("item_type") or "", context.get("item_id") or ""
    if request is None or not item_type or not item_id:
        return []
    referral_code = context.get("referral_code") or ""
    try:
        usable = selectors.coupons_usable(
            user=request.user, item_type=item_type, item_id=item_id, referral_code=referral_code
        )
    except ApplicationError:  # the item cannot be priced: the page says so already
        return []
    checkout = reverse("payments:checkout")
    base = {"item_type": item_type, "item_id": item_id, **({"ref": referral_code} if referral_code else {})}
    return [
        {
            "code": u.copy.code,
            "name": u.copy.coupon.name,
            "value": selectors.value_text(u.copy.coupon),
            "valid_until": u.copy.valid_until,
            "discount_fen": u.discount_fen,
            "amount_fen": u.amount_fen,
            "url": f"{checkout}?{urlencode({**base, 'coupon': u.copy.code})}",
        }
        for u in usable[:20]
    ]
