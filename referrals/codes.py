"""Referral codes and share links: the token a code travels as (`ABCD2345.poster`), who owns a code,
share URLs per channel, the mini-program path, and the per-channel visit and sign-up counters.

`SESSION_KEY` is a contract: the members sign-up hook and checkout read the code the share route
left in the session under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from members.models import User
from referrals.models import LinkChannel, ReferralLinkStat

SESSION_KEY = "referral_code"  # the members sign-up hook reads this key (contract)
SESSION_SEEN_KEY = "referral_seen"
_CODE_RE = re.compile(r"^[A-Z0-9]{4,16}$")


@dataclass(frozen=True)
class RefToken:
    """A referral code plus the channel it was shared through: `ABCD2345` or `ABCD2345.poster`.

    The token travels where a plain code travels (session key, `referral_code` in API bodies,
    `Order.referral_code`), so the sign-up hook can count sign-ups per channel.
    """

    code: str
    channel: str = LinkChannel.LINK

    def __str__(self) -> str:
        return self.code if self.channel == LinkChannel.LINK else f"{self.code}.{self.channel}"


def parse_ref(raw: str | None) -> RefToken | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    code, _sep, channel = raw.partition(".")
    code = code.strip().upper()
    if not _CODE_RE.match(code):
        return None
    channel = channel.strip().lower()
    if not channel:
        channel = LinkChannel.LINK
    elif channel not in LinkChannel.values:
        channel = LinkChannel.OTHER
    return RefToken(code=code, channel=channel)


def user_for_code(code: str) -> User | None:
    token = parse_ref(code)
    if token is None:
        return None
    return User.objects.filter(referral_code=token.code, is_active=True).first()


def share_url(user: User, *, channel: str = "") -> str:
    path = f"/r/{user.referral_code}/"
    if channel and channel != LinkChannel.LINK:
        path += f"?c={channel}"
    return f"{settings.SITE_URL}{path}"


def miniprogram_path(user: User) -> str:
    page = getattr(settings, "REFERRALS_MINIPROGRAM_PAGE", "pages/index/index")
    return f"{page}?ref={user.referral_code}"


def link_visit_record(*, referrer: User, channel: str, now: datetime | None = None) -> None:
    """Count one visit through a promoter's link (callers de-duplicate per session)."""
    link_stat_bump(referrer=referrer, channel=channel, visits=1, now=now or timezone.now())


def link_stat_bump(*, referrer: User, channel: str, visits: int = 0, signups: int = 0, now=None) -> None:
    """Add visits and/or sign-ups to a promoter's counter for one channel (an unknown channel: other)."""
    channel = channel if channel in LinkChannel.values else LinkChannel.OTHER
    stat, _created = ReferralLinkStat.objects.get_or_create(user=referrer, channel=channel)
    updates: dict = {"visits": F("visits") + visits, "signups": F("signups") + signups}
    if visits:
        updates["last_visit_at"] = now or timezone.now()
    ReferralLinkStat.objects.filter(pk=stat.pk).update(**updates)
