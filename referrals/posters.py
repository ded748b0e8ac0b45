"""Referral posters: any sellable item (or the community itself) with the member's code and QR."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from core import brand
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from core.posters import render_poster
from payments import items
from referrals import codes

CACHE_SECONDS = 3600


def poster_share_url(*, user, item_type: str = "", item_id: str = "") -> str:
    query = {"c": "poster"}
    if item_type and item_id:
        query["item"] = f"{item_type}:{item_id}"
    return f"{codes.share_url(user)}?{urlencode(query)}"


def referral_poster_png(*, user, item_type: str = "", item_id: str = "") -> bytes:
    """A 750×1200 PNG with the item's title and price, the sharer's name and a QR of their link.

    Raises ItemUnavailable for an unknown item.
    """
    if item_type and item_id:
        quote = item_quote_for_visitor(user=user, item_type=item_type, item_id=item_id)
        title = quote.title
        stats = [(fen_to_yuan_text(quote.list_price_fen), _("价格"))]
        subtitle = _("%(name)s 推荐给你") % {"name": user.display_name}
    else:
        title = brand.current().share_title
        stats = []
        subtitle = _("%(name)s 邀请你加入%(site)s") % {
            "name": user.display_name,
            "site": brand.current().site_name,
        }
    url = poster_share_url(user=user, item_type=item_type, item_id=item_id)
    # The brand's version is part of the key: a renamed or recoloured site gets new posters at once.
    version = brand.current().version
    key = (
        "referrals:poster:"
        + hashlib.sha256(f"{version}|{title}|{subtitle}|{stats}|{url}".encode()).hexdigest()
    )
    png = cache.get(key)
    if png is None:
        png = render_poster(
            title=title,
            subtitle=subtitle,
            stats=stats,
            qr_payload=url,
            footer=_("推荐码 %(code)s") % {"code": user.referral_code},
        )
        cache.set(key, png, CACHE_SECONDS)
    return png


def item_quote_for_visitor(*, user, item_type: str, item_id: str) -> items.Quote:
    """The item as a visitor sees it (its own price, no member discounts of the sharer's).

    Item types that can only be quoted for a signed-in user are quoted for the sharer instead.
    """
    kind = items.get(item_type)
    try:
        return kind.quote(user=AnonymousUser(), item_id=str(item_id))
    except items.ItemUnavailable:
        raise
    except (ApplicationError, AttributeError, TypeError):
        return kind.quote(user=user, item_id=str(item_id))


def group_poster_png(*, user, group) -> bytes:
    """A poster inviting friends into one group (拼团), with the sharer's code on the link."""
    url = (
        f"{codes.share_url(user)}?"
        f"{urlencode({'c': 'group_buy', 'next': reverse('referrals:group_buy', args=[group.pk])})}"
    )
    left = group.places_left
    png = render_poster(
        title=group.offer.title,
        subtitle=_("%(name)s 邀你一起拼团：%(size)s 人成团，还差 %(left)s 人")
        % {"name": user.display_name, "size": group.size, "left": left},
        stats=[(fen_to_yuan_text(group.price_fen), _("拼团价")), (str(left), _("还差人数"))],
        qr_payload=url,
        footer=_("推荐码 %(code)s") % {"code": user.referral_code},
    )
    return png
