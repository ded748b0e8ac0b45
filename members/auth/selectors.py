"""Sign-in reads: the member's mini-program openid (what WeChat subscribe messages and content checks
are addressed to)."""

from __future__ import annotations

from django.conf import settings

from core.models import WeChatIdentity
from members.models import User


def miniprogram_openid(user: User) -> str:
    identity = (
        WeChatIdentity.objects.filter(
            user=user, kind=WeChatIdentity.Kind.MINIPROGRAM, appid=settings.WECHAT_MINIPROGRAM_APPID
        )
        .order_by("-id")
        .first()
    )
    return identity.openid if identity else ""
