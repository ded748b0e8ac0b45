"""What referrals contributes to the home page (`core.discovery.app_modules("home")`): who invited
this visitor, from the share link they arrived through (`/r/<code>/` keeps the code in the session),
and where a paid group-buy seat sends the member (the group, to invite the others)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from referrals import codes
from referrals.group_buys import ITEM_TYPE as GROUP_BUY
from referrals.models import GroupBuyMember


def request_panel(request) -> dict:
    """{"inviter": user} while the visitor's session holds someone's referral code. ≤ 1 statement."""
    raw = request.session.get(codes.SESSION_KEY) if hasattr(request, "session") else None
    token = codes.parse_ref(raw) if raw else None
    if token is None:
        return {}
    inviter = codes.user_for_code(token.code)
    user = getattr(request, "user", None)
    if inviter is None or (
        user is not None and getattr(user, "is_authenticated", False) and user.pk == inviter.pk
    ):
        return {}
    return {"inviter": inviter}


def order_destination(order) -> tuple[str, str] | None:
    """A paid group-buy seat opens its group, where the member invites the others. ≤ 1 statement."""
    if order.item_type != GROUP_BUY or not str(order.item_id).isdigit():
        return None
    group_id = GroupBuyMember.objects.filter(pk=int(order.item_id)).values_list("group_id", flat=True).first()
    return (reverse("referrals:group_buy", args=[group_id]), _("邀请好友拼团")) if group_id else None
