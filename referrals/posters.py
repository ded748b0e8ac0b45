"""Referral posters: any sellable item (or the community itself) with the member's code and QR, and
the group-buy invitation; laid out by `core.posters.render_poster` in the creator's brand."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import brand
from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from core.posters import render_poster
from core.wxacode import miniprogram_code_png, referral_scene
from members.memberships.selectors import tier_benefit_lines, tiers_for_sale
from members.models import MembershipTier
from payments import items
from referrals import codes

CACHE_SECONDS = 3600
MAX_BENEFITS = 5


def poster_share_url(*, user, item_type: str = "", item_id: str = "") -> str:
    query = {"c": "poster"}
    if item_type and item_id:
        query["item"] = f"{item_type}:{item_id}"
    return f"{codes.share_url(user)}?{urlencode(query)}"


def _tier_offer(tier: MembershipTier | None) -> tuple[str, list[str]]:
    """("开通VIP会员（¥3,600 / 365 天）即可获得", what the tier really includes) or ("", [])."""
    if tier is None:
        return "", []
    lines = tier_benefit_lines([tier]).get(tier.pk, [])[:MAX_BENEFITS]
    heading = _("开通%(tier)s（%(price)s / %(days)s 天）即可获得") % {
        "tier": tier.name,
        "price": fen_to_yuan_text(tier.price_fen),
        "days": tier.duration_days,
    }
    return heading, lines


def referral_poster_png(
    *, user, item_type: str = "", item_id: str = "", info: brand.BrandInfo | None = None
) -> bytes:
    """A 750×1200 PNG: who invites, the item's title and price (or the community's pitch), what the
    reader gets, and a QR of the sharer's link with their code. `info` is the saved brand unless given
    (the brand admin's live preview passes its unsaved edits).

    Raises ItemUnavailable for an unknown item.
    """
    info = info or brand.current()
    if item_type and item_id:
        quote = item_quote_for_visitor(user=user, item_type=item_type, item_id=item_id)
        title = quote.title
        stats = [(fen_to_yuan_text(quote.list_price_fen), _("价格"))]
        subtitle = _("%(name)s 推荐给你") % {"name": user.display_name}
        tier = MembershipTier.objects.filter(code=item_id).first() if item_type == "membership" else None
        heading, benefits = _tier_offer(tier)
        heading = _("开通即可获得") if tier is not None else heading
    else:
        title = info.share_title_raw or info.description or info.site_name
        stats = []
        subtitle = _("%(name)s 邀请你加入%(site)s") % {"name": user.display_name, "site": info.site_name}
        heading, benefits = _tier_offer(tiers_for_sale().first())
    url = poster_share_url(user=user, item_type=item_type, item_id=item_id)
    footer = _("推荐码 %(code)s") % {"code": user.referral_code}
    # The brand's version is part of the key: a renamed or recoloured site gets new posters at once.
    # The community poster (no item) carries a 小程序码 opening the mini-program with the code (scene
    # r=<code>) when the mini-program is configured; item posters keep the link, which names the item.
    page = settings.WECHAT_MINIPROGRAM_POSTER_PAGE
    code_png = None
    if page and not (item_type and item_id):
        code_png = miniprogram_code_png(scene=referral_scene(user.referral_code), page=page)
    key = (
        "referrals:poster:"
        + hashlib.sha256(
            repr(
                (
                    info.version,
                    title,
                    subtitle,
                    stats,
                    heading,
                    benefits,
                    url,
                    footer,
                    page if code_png else "",
                )
            ).encode()
        ).hexdigest()
    )
    png = cache.get(key)
    if png is None:
        png = render_poster(
            title=title,
            subtitle=subtitle,
            stats=stats,
            benefits=benefits,
            benefits_title=heading,
            qr_payload=url,
            qr_png_bytes=code_png,
            footer=footer,
            info=info,
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
    benefits = [
        _("%(size)s 人成团，还差 %(left)s 人") % {"size": group.size, "left": left},
        _("拼团价 %(price)s，每人各得一份") % {"price": fen_to_yuan_text(group.price_fen)},
        _("未成团全额退款"),
    ]
    if group.expires_at:
        deadline = timezone.localtime(group.expires_at).strftime("%m-%d %H:%M")
        benefits.insert(1, _("%(time)s 前成团有效") % {"time": deadline})
    if group.offer.description:
        benefits.append(group.offer.description)
    return render_poster(
        title=group.offer.title,
        subtitle=_("%(name)s 邀你一起拼团") % {"name": user.display_name},
        stats=[(fen_to_yuan_text(group.price_fen), _("拼团价")), (str(left), _("还差人数"))],
        benefits=benefits,
        benefits_title=_("拼团说明"),
        qr_payload=url,
        footer=_("推荐码 %(code)s") % {"code": user.referral_code},
    )
