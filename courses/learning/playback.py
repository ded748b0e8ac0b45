"""Completion the server vouches for: playback sessions, heartbeats and the text lessons' reading rule.

A player starts a session (`playback_start`) and then sends a heartbeat every `HEARTBEAT_SECONDS`
while it plays, and on pause, seek and end (`playback_heartbeat`). The server keeps, on the member's
`LessonProgress`, the one current session and its anchor (where the player was at the last accepted
heartbeat, and when). A heartbeat claims the stretch from the anchor to its position; it is credited
only if real time allows it (`credit_for`): at most the wall time since the anchor (capped at
`MAX_CREDIT_GAP`) × the playback rate (capped at 2×) plus a small slack. A longer jump, or a jump
back, is a seek: nothing is credited and the anchor moves there. Credited seconds are ORed into a
bitmap of the lesson's seconds, so watching a part twice counts once; the lesson is learned when the
bitmap covers the course's `complete_at_percent` of it.

Two devices: starting a session replaces the current one (the latest start wins); the replaced
session's heartbeats are answered 409 `playback_superseded` and change nothing, so two players at once
never add up. Session ids are signed for (member, lesson): an id the server did not issue, or issued
for another member or lesson, is 400 `playback_session_unknown`.

Text lessons have no player: opening one starts its reading clock (the first open counts), and the
member's "学完了" (`completed: true` on the progress API) is accepted once the reading time the text
needs (`reading_seconds_required`) has passed since; sooner is 409 `reading_too_short`.

The heartbeat path is built to be cheap (≥ 1,000 per second per core, bench/bench_heartbeats.py):
the session id is checked before any query, the course and the member's entitlements come from the
catalog cache (one Redis round trip), and the database sees one SELECT of the progress row and one
conditional UPDATE (compare-and-set on the anchor, so two heartbeats at once credit once).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.catalog import selectors as catalog_selectors
from courses.learning import completion
from courses.member_facts import is_authenticated
from courses.models import Lesson, LessonProgress

HEARTBEAT_SECONDS = 15  # what players are told to use
MIN_CREDIT_GAP = 5  # a heartbeat this soon after the anchor is credited nothing (it would be all slack)
MAX_CREDIT_GAP = 60  # wall time counted between two heartbeats at most: a long pause is not a credit
MAX_RATE = 2.0  # faster playback is credited as 2×
SLACK = 0.10  # timers and networks are not exact
ROUNDING = 1  # positions are whole seconds (floored by the player)
POSITION_SLACK = 5  # a media file may run a few seconds past the lesson's stated length
MEDIA_KINDS = (Lesson.Kind.VIDEO, Lesson.Kind.AUDIO)

MIN_READING_SECONDS = 10
MAX_READING_SECONDS = 180
READING_CHARS_PER_SECOND = 15  # a quick reader of Chinese: about 900 characters a minute


@dataclass(frozen=True)
class Credit:
    """What one heartbeat earns: `kind` is "credited" ([start, end) seconds watched), "seek" (nothing
    credited, the anchor moves) or "too_soon" (nothing at all changes)."""

    kind: str
    start: int = 0
    end: int = 0


def credit_for(
    *, anchor_position: int, anchor_at: datetime, position: int, rate: float, now: datetime
) -> Credit:
    """The rule, as a pure function of the anchor and the heartbeat."""
    elapsed = max(0.0, (now - anchor_at).total_seconds())
    advance = position - anchor_position
    allowed = min(elapsed, MAX_CREDIT_GAP) * min(max(rate, 0.0), MAX_RATE) * (1 + SLACK) + ROUNDING
    if advance < 0 or advance > allowed:
        return Credit("seek")
    if elapsed < MIN_CREDIT_GAP:
        return Credit("too_soon")
    return Credit("credited", anchor_position, position)


def mark_watched(bitmap: bytes, start: int, end: int, length: int) -> tuple[bytes, int]:
    """`bitmap` (bit n = second n, little-endian) with [start, end) set, and how many bits are set."""
    bits = int.from_bytes(bitmap, "little")
    end = min(end, length)
    if end > start:
        bits |= ((1 << (end - start)) - 1) << start
    return bits.to_bytes((length + 7) // 8, "little"), bits.bit_count()


def watched_percent(watched_seconds: int, length: int) -> int:
    return min(100, watched_seconds * 100 // length) if length else 0


def lesson_is_learned(*, watched_seconds: int, length: int, complete_at_percent: int) -> bool:
    return bool(length) and watched_seconds * 100 >= length * complete_at_percent


def reading_seconds_required(lesson: Lesson) -> int:
    """How long a text lesson must have been open before "学完了" is believed."""
    estimate = len(lesson.body or "") // READING_CHARS_PER_SECOND
    return max(MIN_READING_SECONDS, min(MAX_READING_SECONDS, estimate))


# ---- session ids --------------------------------------------------------------------------------------


def _signer(user_id: int, lesson_id: int) -> signing.Signer:
    return signing.Signer(salt=f"courses.playback:{user_id}:{lesson_id}")


def session_token(*, user_id: int, lesson_id: int, nonce: str) -> str:
    return _signer(user_id, lesson_id).sign(nonce)


def session_nonce(*, user_id: int, lesson_id: int, token: str) -> str:
    """The nonce of a session id issued for this member and lesson, else 400 playback_session_unknown."""
    try:
        return _signer(user_id, lesson_id).unsign(token or "")
    except signing.BadSignature:
        raise ApplicationError(
            "playback_session_unknown", _("播放会话无效，请刷新页面后重新播放"), status_code=400
        ) from None


# ---- access -------------------------------------------------------------------------------------------


def _refuse(access: catalog_selectors.LessonAccess) -> ApplicationError:
    # The lesson API's own answer (401, 403 not_entitled, or 403 lesson_not_released with `unlocks_at`
    # for a lesson the drip has not opened): imported here, as catalog.services imports this module.
    from courses.catalog.services import lesson_refusal

    return lesson_refusal(access)


def lesson_for_member(*, user, course_id: int, lesson_id: int) -> Lesson:
    """The published lesson with its course, checked by `lesson_access` (THE rule), from the catalog
    cache and the member's cached entitlements in one round trip: 403/401 when not allowed, 404 when
    the lesson is not published (any more)."""
    course, lessons, _extra, facts = catalog_selectors.course_page(
        course_id=course_id, shape="learning", user=user
    )
    lesson = next((item for item in lessons if item.pk == lesson_id), None)
    if lesson is None:
        raise ApplicationError("not_found", _("课时不存在"), status_code=404)
    lesson.course = course
    access = catalog_selectors.lesson_access(
        user, lesson, course_access_=catalog_selectors.course_access(user, course, facts=facts)
    )
    if not access.allowed:
        raise _refuse(access)
    return lesson


def lesson_check(user, lesson: Lesson) -> None:
    """401 or 403 unless `lesson_access` lets this member open the lesson."""
    if not is_authenticated(user):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    access = catalog_selectors.lesson_access(user, lesson)
    if not access.allowed:
        raise _refuse(access)


def _position_in(lesson: Lesson, position: int) -> int:
    """The position capped at the lesson's length; 400 when it is further past it than a media file can
    run (a player does not report that: it is invented)."""
    position = max(0, int(position))
    if lesson.duration_seconds and position > lesson.duration_seconds + POSITION_SLACK:
        raise ApplicationError(
            "position_beyond_length",
            _("播放位置超出了课时时长"),
            fields={"position_seconds": [_("最大 %(n)s 秒") % {"n": lesson.duration_seconds}]},
        )
    return min(position, lesson.duration_seconds) if lesson.duration_seconds else position


# ---- services -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaybackState:
    """What a player is told after a start or a heartbeat."""

    session_id: str
    kind: str  # the lesson's kind
    position_seconds: int
    watched_seconds: int
    duration_seconds: int
    complete_at_percent: int
    completed: bool
    accepted_seconds: int = 0
    outcome: str = "started"  # started / credited / seek / too_soon
    reading_seconds_left: int = 0

    @property
    def watched_percent(self) -> int:
        return watched_percent(self.watched_seconds, self.duration_seconds)


def playback_start(
    *, user, lesson: Lesson, position_seconds: int = 0, now: datetime | None = None
) -> PlaybackState:
    """Open a playback session (media) or the reading clock (text) for the member; a new media session
    replaces the one before it, wherever it plays."""
    lesson_check(user, lesson)
    now = now or timezone.now()
    media = lesson.kind in MEDIA_KINDS
    if media and not lesson.duration_seconds:
        raise ApplicationError(
            "lesson_length_unknown", _("该课时还没有设置时长，暂不能记录学习进度"), status_code=409
        )
    position = _position_in(lesson, position_seconds) if media else 0
    nonce = secrets.token_hex(8)
    with transaction.atomic():
        progress, _created = LessonProgress.objects.select_for_update(of=("self",)).get_or_create(
            user=user, lesson=lesson, defaults={"course_id": lesson.course_id}
        )
        if media:
            progress.playback_session, progress.playback_position, progress.playback_at = nonce, position, now
            fields = ["playback_session", "playback_position", "playback_at", "updated_at"]
        elif progress.playback_at is None:  # a text lesson's reading clock starts at the first open
            progress.playback_session, progress.playback_at = nonce, now
            fields = ["playback_session", "playback_at", "updated_at"]
        else:
            nonce, fields = progress.playback_session or nonce, []
        if fields:
            progress.save(update_fields=fields)
    left = 0
    if not media and not progress.completed and progress.playback_at is not None:
        read = int((now - progress.playback_at).total_seconds())
        left = max(0, reading_seconds_required(lesson) - read)
    return PlaybackState(
        session_id=session_token(user_id=user.pk, lesson_id=lesson.pk, nonce=nonce),
        kind=lesson.kind,
        position_seconds=position if media else progress.position_seconds,
        watched_seconds=progress.watched_seconds,
        duration_seconds=lesson.duration_seconds,
        complete_at_percent=lesson.course.complete_at_percent,
        completed=progress.completed,
        reading_seconds_left=left,
    )


_HEARTBEAT_FIELDS = (
    "pk",
    "course_id",
    "playback_session",
    "playback_position",
    "playback_at",
    "watched",
    "watched_seconds",
    "completed",
)


def playback_heartbeat(
    *,
    user,
    lesson_id: int,
    session_id: str,
    position_seconds: int,
    playback_rate: float = 1.0,
    now: datetime | None = None,
) -> PlaybackState:
    """Credit what real time allows since the session's anchor (module docstring). Refused with
    nothing changed: a session id not issued for this member and lesson (400), a replaced session
    (409 playback_superseded), a position past the lesson's end (400), a lesson the member may no
    longer open (403), and the loser of two heartbeats at once (409 heartbeat_conflict)."""
    if not is_authenticated(user):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    nonce = session_nonce(user_id=user.pk, lesson_id=lesson_id, token=session_id)
    row = (
        LessonProgress.objects.filter(user_id=user.pk, lesson_id=lesson_id).values(*_HEARTBEAT_FIELDS).first()
    )
    if row is None or not row["playback_session"] or row["playback_at"] is None:
        raise ApplicationError(
            "playback_session_unknown", _("播放会话无效，请刷新页面后重新播放"), status_code=400
        )
    lesson = lesson_for_member(user=user, course_id=row["course_id"], lesson_id=lesson_id)
    if lesson.kind not in MEDIA_KINDS or not lesson.duration_seconds:
        raise ApplicationError("not_playable", _("该课时没有可播放的音视频"), status_code=409)
    if row["playback_session"] != nonce:
        raise ApplicationError(
            "playback_superseded", _("该课时正在另一台设备上播放，本设备的进度不再记录"), status_code=409
        )
    position = _position_in(lesson, position_seconds)
    now = now or timezone.now()
    length = lesson.duration_seconds
    rule = lesson.course.complete_at_percent
    credit = credit_for(
        anchor_position=row["playback_position"],
        anchor_at=row["playback_at"],
        position=position,
        rate=playback_rate,
        now=now,
    )
    state = partial(
        PlaybackState,
        session_id=session_id,
        kind=lesson.kind,
        duration_seconds=length,
        complete_at_percent=rule,
        outcome=credit.kind,
    )
    if credit.kind == "too_soon":
        return state(
            position_seconds=row["playback_position"],
            watched_seconds=row["watched_seconds"],
            completed=row["completed"],
        )
    bitmap, watched = bytes(row["watched"] or b""), row["watched_seconds"]
    if credit.kind == "credited":
        bitmap, watched = mark_watched(bitmap, credit.start, credit.end, length)
    changes: dict = {
        "position_seconds": position,
        "playback_position": position,
        "playback_at": now,
        "updated_at": now,
    }
    if watched != row["watched_seconds"]:
        changes.update(watched=bitmap, watched_seconds=watched)
    newly_learned = not row["completed"] and lesson_is_learned(
        watched_seconds=watched, length=length, complete_at_percent=rule
    )
    if newly_learned:
        changes.update(completed=True, completed_at=now)
    # compare-and-set on the anchor: of two heartbeats read against the same anchor, one writes
    updated = LessonProgress.objects.filter(
        pk=row["pk"], playback_session=nonce, playback_at=row["playback_at"]
    ).update(**changes)
    if not updated:
        raise ApplicationError(
            "heartbeat_conflict", _("进度刚刚由另一个请求更新，本次未记录"), status_code=409
        )
    if newly_learned:
        completion.course_completion_check(user=user, course=lesson.course, now=now)
    return state(
        position_seconds=position,
        watched_seconds=watched,
        completed=row["completed"] or newly_learned,
        accepted_seconds=watched - row["watched_seconds"],
    )


def progress_save(*, user, lesson: Lesson, position_seconds: int, completed: bool | None) -> LessonProgress:
    """The progress API (row 13): the resume position of a media lesson (never its watched time: the
    client's `completed` is ignored there), and a text lesson's "学完了" under the reading rule.
    Completion is sticky. The caller has checked `lesson_access`."""
    now = timezone.now()
    media = lesson.kind in MEDIA_KINDS
    position = _position_in(lesson, position_seconds) if media else max(0, int(position_seconds or 0))
    newly_learned = False
    with transaction.atomic():
        progress, _created = LessonProgress.objects.select_for_update(of=("self",)).get_or_create(
            user=user, lesson=lesson, defaults={"course_id": lesson.course_id}
        )
        progress.position_seconds = position
        fields = ["position_seconds", "updated_at"]
        if completed and not media and not progress.completed:
            needed = reading_seconds_required(lesson)
            read = int((now - progress.playback_at).total_seconds()) if progress.playback_at else -1
            if read < needed:
                raise ApplicationError(
                    "reading_too_short",
                    _("请至少阅读 %(n)s 秒后再标记学完") % {"n": needed}
                    if read < 0
                    else _("再读 %(n)s 秒就可以标记学完了") % {"n": needed - read},
                    status_code=409,
                    extra={"reading_seconds_left": needed - max(read, 0)},
                )
            progress.completed, progress.completed_at = True, now
            fields += ["completed", "completed_at"]
            newly_learned = True
        progress.save(update_fields=fields)
        if newly_learned:
            completion.course_completion_check(user=user, course=lesson.course, now=now)
    return progress
