"""`{% load flash_sales %}{% flash_sale "course" course.pk %}`: the flash sale of an item, with its
countdown and the units left, on the item's page and at checkout.

A template tag rather than a view's context: the item pages belong to apps below growth (members,
courses, circles), which must not import it; their templates ask for the box and growth fills it.
The price an order pays is still the quote's (`growth.flash_sales.pricing`); this box shows the offer.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from growth.flash_sales import selectors

register = template.Library()


@register.inclusion_tag("growth/_flash_sale.html", takes_context=True)
def flash_sale(context: template.Context, item_type: str, item_id: Any) -> dict[str, Any]:
    """The running sale of the item (or the next one, with when it starts); nothing when there is none."""
    now = timezone.now()
    sale = selectors.sale_shown_for(item_type=item_type, item_id=str(item_id), now=now)
    if sale is None:
        return {"sale": None}
    request = context.get("request")
    running = sale.running_at(now)
    used_up = running and (
        selectors.member_units(sale=sale, user=getattr(request, "user", None)) >= sale.per_member_limit
    )
    return {"sale": sale, "running": running, "used_up": used_up, "now": now}
