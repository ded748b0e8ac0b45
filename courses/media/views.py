"""The signed playback endpoints: the master playlist, a rendition's playlist and the AES-128 key.

Every request passes `courses.media.playback.playback_check` (signature, expiry, the member it was
signed for, the lesson entitlement) or gets 403 `{"code": ...}`. Playlists are read from the `media_hls`
storage (cached: a transcoded folder never changes) and rewritten per request: the key URI becomes this
URL's key endpoint, segment names become the storage's URLs (a CDN's, in production) — segments are
encrypted, so only the key needs guarding. Plain Django views rather than DRF: the key is fetched for
every playback start and must stay close to the API floor (docs/benchmarks.md).
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from courses.media import ffmpeg
from courses.media.playback import PlaybackRefused, playback_check
from courses.media.storage import hls_storage

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
PLAYLIST_CACHE_SECONDS = 24 * 3600


def _refused(refusal: PlaybackRefused) -> JsonResponse:
    response = JsonResponse({"code": refusal.code, "message": refusal.message, "fields": {}}, status=403)
    response["Cache-Control"] = "no-store"
    return response


def _private(response: HttpResponse) -> HttpResponse:
    # Signed for one member: no shared cache may keep it.
    response["Cache-Control"] = "private, no-store"
    return response


def stored_playlist(name: str) -> str:
    """A playlist as transcoded (immutable under its run's folder), from the cache or the storage."""
    key = f"courses:media:playlist:{name}"
    text = cache.get(key)
    if text is None:
        with hls_storage().open(name, "rb") as handle:
            text = handle.read().decode("utf-8")
        cache.set(key, text, PLAYLIST_CACHE_SECONDS)
    return text


def rewrite_rendition(text: str, *, key_url: str, segment_url) -> str:
    """The key URI → the signed key URL; each segment → its storage URL. Everything else is kept."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-KEY:"):
            line = line.replace(f'URI="{ffmpeg.KEY_URI_PLACEHOLDER}"', f'URI="{key_url}"')
        elif line and not line.startswith("#"):
            line = segment_url(line)
        lines.append(line)
    return "\n".join(lines) + "\n"


@require_GET
def master(request: HttpRequest, token: str) -> HttpResponse:
    try:
        _lesson, asset = playback_check(token=token, request_user=request.user)
    except PlaybackRefused as refusal:
        return _refused(refusal)
    # Renditions are named relatively (`360p/index.m3u8`): they resolve under this signed URL.
    text = stored_playlist(f"{asset.hls_path}/{ffmpeg.MASTER}")
    return _private(HttpResponse(text, content_type=PLAYLIST_TYPE))


@require_GET
def rendition(request: HttpRequest, token: str, name: str) -> HttpResponse:
    try:
        _lesson, asset = playback_check(token=token, request_user=request.user)
    except PlaybackRefused as refusal:
        return _refused(refusal)
    if name not in {r["name"] for r in asset.renditions}:
        return _refused(PlaybackRefused("not_entitled"))
    folder = f"{asset.hls_path}/{name}"
    storage = hls_storage()
    text = rewrite_rendition(
        stored_playlist(f"{folder}/{ffmpeg.PLAYLIST}"),
        key_url=reverse("courses:media_key", args=[token]),
        segment_url=lambda segment: storage.url(f"{folder}/{segment}"),
    )
    return _private(HttpResponse(text, content_type=PLAYLIST_TYPE))


@require_GET
def key(request: HttpRequest, token: str) -> HttpResponse:
    try:
        _lesson, asset = playback_check(token=token, request_user=request.user)
    except PlaybackRefused as refusal:
        return _refused(refusal)
    return _private(HttpResponse(bytes(asset.key), content_type="application/octet-stream"))
