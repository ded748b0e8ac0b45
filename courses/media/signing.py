"""Playback URLs signed for one member: who (user id, 0 for a visitor's free preview), which lesson and
asset, until when, and whether the web session must match (`session_bound`).

The web player fetches its playlists and key with the member's session cookie, so a web URL is bound
to that session: a copied URL fails for anyone else, logged in or not. The mini-program's `<video>`
cannot send the member's token with its requests, so its URL carries the binding itself and is valid
for minutes only (settings.MEDIA_PLAYBACK_URL_MINUTES); within them a leaked mini-program URL plays for
whoever holds it — only while the member is still entitled, because every playlist and key request
re-checks `courses.catalog.selectors.lesson_access` (docs/architecture.md §8).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.signing import BadSignature, Signer

SALT = "courses.media.playback"


class BadPlaybackToken(Exception):
    pass


@dataclass(frozen=True)
class PlaybackGrant:
    user_id: int  # 0: a visitor (free preview lessons only)
    lesson_id: int
    asset_id: int
    expires_at: int  # Unix seconds
    session_bound: bool

    @property
    def expired(self) -> bool:
        return self.expires_at < time.time()


def _signer() -> Signer:
    return Signer(key=settings.MEDIA_PLAYBACK_SIGNING_KEY, salt=SALT, algorithm="sha256")


def grant_sign(grant: PlaybackGrant) -> str:
    mode = "s" if grant.session_bound else "u"
    return _signer().sign(f"{grant.user_id}.{grant.lesson_id}.{grant.asset_id}.{grant.expires_at}.{mode}")


def grant_unsign(token: str) -> PlaybackGrant:
    try:
        value = _signer().unsign(token)
        user_id, lesson_id, asset_id, expires_at, mode = value.split(".")
        if mode not in ("s", "u"):
            raise ValueError(mode)
        return PlaybackGrant(int(user_id), int(lesson_id), int(asset_id), int(expires_at), mode == "s")
    except (BadSignature, ValueError) as exc:
        raise BadPlaybackToken(str(exc)) from exc
