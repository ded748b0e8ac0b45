"""Reads of protected playback: the signed playlist URL and watermark an entitled member gets with a
lesson (`playback_for`, used by the lesson page and the lesson API), and the check every playlist and
key request passes (`playback_check`): the signature, the expiry, the member it was signed for, and
`courses.catalog.selectors.lesson_access` — THE entitlement answer — asked again on every request, so a
URL stops working when the membership or purchase that funded it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.catalog.selectors import course_access, course_get_with_facts, lesson_access
from courses.media.signing import BadPlaybackToken, PlaybackGrant, grant_sign, grant_unsign
from courses.member_facts import is_authenticated
from courses.models import Lesson, MediaAsset
from members.models import User

NICKNAME_CHARS = 6

REFUSALS = {
    "not_entitled": _("你没有观看此内容的权限"),
    "playback_url_invalid": _("播放地址无效"),
    "playback_url_expired": _("播放地址已过期，请刷新页面"),
}


class PlaybackRefused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


@dataclass(frozen=True)
class Playback:
    url: str
    expires_at: datetime
    watermark: dict


def watermark_for(user) -> dict:
    """What the drifting watermark shows: the member number (or the user id before one is issued) and a
    short nickname, so a screen recording names its source without showing a full name."""
    if not is_authenticated(user):
        return {"text": "", "member_no": "", "nickname": ""}
    number = user.member_no or f"ID{user.pk}"
    nickname = (user.nickname or "")[:NICKNAME_CHARS]
    return {"text": f"{number} {nickname}".strip(), "member_no": number, "nickname": nickname}


def playback_for(
    *, user, lesson: Lesson, session_bound: bool, absolute: Callable[[str], str] | None = None
) -> Playback | None:
    """The signed master playlist URL of the lesson's asset for this user, or None (no asset, or not
    transcoded yet). The caller has already decided `lesson_access(user, lesson).allowed`.
    One query, and only for a lesson with an asset."""
    if lesson.media_asset_id is None:
        return None
    if not MediaAsset.objects.filter(pk=lesson.media_asset_id, status=MediaAsset.Status.READY).exists():
        return None
    signed_in = is_authenticated(user)
    expires = int(time.time()) + settings.MEDIA_PLAYBACK_URL_MINUTES * 60
    token = grant_sign(
        PlaybackGrant(
            user_id=user.pk if signed_in else 0,
            lesson_id=lesson.pk,
            asset_id=lesson.media_asset_id,
            expires_at=expires,
            session_bound=session_bound and signed_in,
        )
    )
    path = reverse("courses:media_master", args=[token])
    return Playback(
        url=absolute(path) if absolute else path,
        expires_at=datetime.fromtimestamp(expires, tz=UTC),
        watermark=watermark_for(user),
    )


def playback_check(*, token: str, request_user) -> tuple[Lesson, MediaAsset]:
    """The lesson and its ready asset a playlist or key request may be answered for, or
    PlaybackRefused. One statement — the lesson with its asset, and the member's row when the request
    carries no session — and one cache round trip for the course and the member's entitlements."""
    try:
        grant = grant_unsign(token)
    except BadPlaybackToken:
        raise PlaybackRefused("playback_url_invalid") from None
    if grant.expired:
        raise PlaybackRefused("playback_url_expired")
    user = _session_member(grant, request_user)
    lessons = Lesson.objects.filter(
        pk=grant.lesson_id,
        is_published=True,
        media_asset_id=grant.asset_id,
        media_asset__status=MediaAsset.Status.READY,
    ).select_related("media_asset")
    if user is None:  # no session: the member named in the URL, read with the lesson
        lessons = lessons.annotate(
            member_is_staff=Subquery(
                User.objects.filter(pk=grant.user_id, is_active=True).values("is_staff")[:1]
            )
        )
    lesson = lessons.first()
    if lesson is None or lesson.media_asset is None:
        raise PlaybackRefused("not_entitled")
    if user is None:
        is_staff = lesson.member_is_staff  # type: ignore[attr-defined]  # the annotation above
        if is_staff is None:  # no such active member
            raise PlaybackRefused("not_entitled")
        # the fields the access rules read; any other would be loaded on access (deferred)
        user = User.from_db("default", ["id", "is_staff", "is_active"], [grant.user_id, is_staff, True])
    try:
        course, facts = course_get_with_facts(course_id=lesson.course_id, user=user)
    except Http404:  # the course was unpublished
        raise PlaybackRefused("not_entitled") from None
    lesson.course = course
    if not lesson_access(user, lesson, course_access_=course_access(user, course, facts=facts)).allowed:
        raise PlaybackRefused("not_entitled")
    return lesson, lesson.media_asset


def _session_member(grant: PlaybackGrant, request_user):
    """Whose entitlement decides, when the request says: a visitor for a free preview's URL; the
    signed-in member, who must be the one the URL was signed for. None: no session, and the URL does
    not need one (the mini-program's player): the member named in it decides."""
    if grant.user_id == 0:
        return AnonymousUser()  # a free preview: lesson_access allows previews only
    if is_authenticated(request_user):
        if request_user.pk != grant.user_id:
            raise PlaybackRefused("not_entitled")
        return request_user
    if grant.session_bound:
        raise PlaybackRefused("not_entitled")
    return None
