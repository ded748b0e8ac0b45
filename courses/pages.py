"""Helpers the catalog, event and camp pages share: the checkout and login links and the price shown
to the member (or why it cannot be bought)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from core.errors import ApplicationError
from payments import items


def checkout_page_url(item_type: str, item_id) -> str:
    return reverse("payments:checkout") + "?" + urlencode({"item_type": item_type, "item_id": item_id})


def login_url(request: HttpRequest) -> str:
    return reverse("account_login") + "?" + urlencode({"next": request.get_full_path()})


def page_price(quote_fn, request, item_id, *, item_type: str):
    """The price the member would pay now (the item type's quote, then every adjuster: the order's
    price), or why it cannot be bought."""
    if not request.user.is_authenticated:
        return None, ""
    try:
        quote = quote_fn(user=request.user, item_id=item_id)
        return items.adjust(user=request.user, item_type=item_type, item_id=item_id, quote=quote), ""
    except ApplicationError as exc:
        return None, exc.message
