"""Protected media (courses.media): an upload transcoded by real ffmpeg into AES-128 encrypted HLS, and
playback only for the entitled — the signed playlists and key checked on every request against
`lesson_access`; the lesson page and API hand out the signed URL with the watermark."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery.exceptions import Retry
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from courses.media import playback as media_playback
from courses.media import tasks as media_tasks
from courses.media.signing import PlaybackGrant, grant_sign, grant_unsign
from courses.media.storage import hls_storage
from courses.media.transcode import TranscodeFailed
from courses.models import Lesson, MediaAsset
from tests.courses import factories as f
from tests.courses.conftest import run_on_commit
from tests.courses.media_helpers import (
    decrypt_segment,
    looks_like_plain_ts,
    make_clip,
    protected_lesson,
    ready_asset_like,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    settings.MEDIA_PRIVATE_ROOT = tmp_path_factory.getbasetemp() / "media-private"


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=3).read_bytes()


@pytest.fixture(scope="session")
def transcoded(django_db_setup, django_db_blocker, tmp_path_factory, clip) -> dict:
    """One real transcoding of the 3-second clip, shared by the playback tests (files kept, row removed)."""
    base = tmp_path_factory.getbasetemp()
    with (
        override_settings(MEDIA_ROOT=base / "media", MEDIA_PRIVATE_ROOT=base / "media-private"),
        django_db_blocker.unblock(),
    ):
        asset = MediaAsset.objects.create(title="shared", source=ContentFile(clip, name="shared.mp4"))
        media_tasks.media_transcode.delay(asset.pk)
        asset.refresh_from_db()
        assert asset.status == MediaAsset.Status.READY, asset.error
        done = {
            "key": bytes(asset.key),
            "hls_path": asset.hls_path,
            "renditions": asset.renditions,
            "duration_seconds": asset.duration_seconds,
        }
        asset.delete()
    return done


@pytest.fixture
def vip_course(vip):
    return f.make_course(tiers=[vip], price_fen=0, lessons=1, previews=0)


@pytest.fixture
def lesson(vip_course, transcoded):
    return protected_lesson(vip_course, ready_asset_like(transcoded))


@pytest.fixture
def vip_member(vip):
    user = UserFactory(nickname="小明同学爱学习", member_no="VIP00042")
    f.give_tier(user, vip)
    return user


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _key_url(master_url: str) -> str:
    return _path(master_url).replace("master.m3u8", "key")


# --- the pipeline ------------------------------------------------------------------------------------


def test_an_upload_in_admin_transcodes_into_two_encrypted_renditions_once(client, clip, vip_course):
    operator = UserFactory(is_staff=True, is_superuser=True)
    lesson = Lesson.objects.create(
        course=vip_course,
        title="上传的视频",
        position=5,
        kind=Lesson.Kind.VIDEO,
        media_url="https://x.example/a.mp4",
    )
    client.force_login(operator)
    with run_on_commit():
        response = client.post(
            "/admin/courses/mediaasset/add/",
            {"title": "第一讲视频", "kind": "video", "source": SimpleUploadedFile("lecture.mp4", clip)},
        )
    assert response.status_code == 302, response.content[:500]
    asset = MediaAsset.objects.get(title="第一讲视频")
    assert (asset.status, asset.progress_percent, asset.attempts, asset.duration_seconds) == (
        "ready",
        100,
        1,
        3,
    )
    assert asset.created_by == operator
    assert not Path(asset.source.path).is_relative_to(settings.MEDIA_ROOT)  # the original is never published
    storage = hls_storage()
    master = storage.open(f"{asset.hls_path}/master.m3u8").read().decode()
    assert master.count("#EXT-X-STREAM-INF") == 2
    assert "RESOLUTION=640x360" in master and "RESOLUTION=1280x720" in master
    assert [r["name"] for r in asset.renditions] == ["360p", "720p"]
    for name in ("360p", "720p"):
        playlist = storage.open(f"{asset.hls_path}/{name}/index.m3u8").read().decode()
        assert '#EXT-X-KEY:METHOD=AES-128,URI="key"' in playlist
        first = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
        segment = storage.open(f"{asset.hls_path}/{name}/{first}").read()
        assert not looks_like_plain_ts(segment)
        assert looks_like_plain_ts(decrypt_segment(segment, key=bytes(asset.key), sequence=0))
    assert bytes(asset.key) not in b"".join(
        p.read_bytes() for p in Path(settings.MEDIA_ROOT, asset.hls_path).rglob("*") if p.is_file()
    )

    # the lesson plays it and takes its length; a second run of a ready asset changes nothing
    with run_on_commit():
        response = client.post(
            f"/admin/courses/course/{vip_course.pk}/change/",
            _course_form(vip_course, lesson_media_asset={lesson.pk: asset.pk}),
        )
    assert response.status_code == 302, response.content[:2000]
    lesson.refresh_from_db()
    assert lesson.media_asset == asset
    before = (asset.hls_path, asset.attempts, asset.transcoded_at)
    media_tasks.media_transcode.delay(asset.pk)
    asset.refresh_from_db()
    assert (asset.hls_path, asset.attempts, asset.transcoded_at) == before
    listing = client.get("/admin/courses/mediaasset/")
    assert "第一讲视频" in listing.content.decode() and 'value="100"' in listing.content.decode()


def _course_form(course, *, lesson_media_asset: dict) -> dict:
    """The course change form as admin renders it, with each lesson's asset set."""
    lessons = list(course.lessons.order_by("position", "id"))
    data = {
        "title": course.title,
        "summary": course.summary,
        "description": course.description,
        "teacher": course.teacher_id,
        "is_published": "on",
        "sort_order": course.sort_order,
        "price_fen": course.price_fen,
        "included_in_tiers": [t.pk for t in course.included_in_tiers.all()],
        "complete_at_percent": course.complete_at_percent,
        "lessons-TOTAL_FORMS": len(lessons),
        "lessons-INITIAL_FORMS": len(lessons),
        "lessons-MIN_NUM_FORMS": 0,
        "lessons-MAX_NUM_FORMS": 1000,
    }
    for i, lesson in enumerate(lessons):
        data.update(
            {
                f"lessons-{i}-id": lesson.pk,
                f"lessons-{i}-course": course.pk,
                f"lessons-{i}-position": lesson.position,
                f"lessons-{i}-title": lesson.title,
                f"lessons-{i}-kind": lesson.kind,
                f"lessons-{i}-is_published": "on",
                f"lessons-{i}-media_url": lesson.media_url,
                f"lessons-{i}-media_asset": lesson_media_asset.get(lesson.pk, lesson.media_asset_id or ""),
                f"lessons-{i}-duration_seconds": 0
                if lesson.pk in lesson_media_asset
                else lesson.duration_seconds,
                f"lessons-{i}-body": lesson.body,
            }
        )
    return data


def test_a_corrupt_upload_fails_at_once_with_the_error_shown_in_admin(client):
    asset = MediaAsset.objects.create(
        title="坏文件", source=ContentFile(b"this is not a video at all" * 100, name="broken.mp4")
    )
    media_tasks.media_transcode.delay(asset.pk)
    asset.refresh_from_db()
    assert (asset.status, asset.attempts, asset.hls_path) == ("failed", 1, "")
    assert "ffprobe" in asset.error
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/courses/mediaasset/{asset.pk}/change/").content.decode()
    assert "ffprobe" in page and "失败" in page


def test_a_failing_encoder_is_retried_with_backoff_then_reported_failed(settings, clip, client):
    settings.MEDIA_FFMPEG = "/bin/false"  # ffprobe reads the clip; the encoder fails every time
    settings.MEDIA_TRANSCODE_MAX_RETRIES = 2
    asset = MediaAsset.objects.create(title="编码失败", source=ContentFile(clip, name="ok.mp4"))
    countdowns = _run_as_a_worker_would(asset.pk)
    asset.refresh_from_db()
    assert countdowns == [60, 240]  # two retries asked for, 1 and 4 minutes later; the third run gives up
    assert (asset.status, asset.attempts) == ("failed", 3)
    assert "exited 1" in asset.error

    # an operator tries again once the encoder is back
    settings.MEDIA_FFMPEG = "ffmpeg"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with run_on_commit():
        client.post(
            "/admin/courses/mediaasset/", {"action": "transcode_again", "_selected_action": [asset.pk]}
        )
    asset.refresh_from_db()
    assert (asset.status, asset.attempts, asset.error) == ("ready", 4, "")


def _run_as_a_worker_would(asset_id: int) -> list[int]:
    """Run the task, and run it again each time it asks for a retry (as the broker would redeliver it
    after the countdown); the countdowns it asked for."""
    countdowns = []
    while True:
        try:
            media_tasks.media_transcode.apply(args=[asset_id], retries=len(countdowns), throw=True)
            return countdowns
        except Retry as retry:
            assert isinstance(retry.exc, TranscodeFailed)
            countdowns.append(int(retry.when))


def test_a_lost_task_is_swept_up(clip):
    asset = MediaAsset.objects.create(title="丢失的任务", source=ContentFile(b"x", name="x.mp4"))
    assert media_tasks.media_transcode_sweep.delay().get() == 0  # just queued: its task is on the way
    MediaAsset.objects.filter(pk=asset.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert media_tasks.media_transcode_sweep.delay().get() == 1
    asset.refresh_from_db()
    assert asset.status == "failed"  # the sweep's task ran it (not a video: failed, reported)


def test_admin_upload_refuses_a_file_that_is_not_media_by_its_name(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/courses/mediaasset/add/",
        {"title": "x", "kind": "video", "source": SimpleUploadedFile("notes.pdf", b"%PDF")},
    )
    assert response.status_code == 200
    assert "不支持的文件类型 .pdf" in response.content.decode()
    assert not MediaAsset.objects.exists()


# --- playback: the key ----------------------------------------------------------------------------------


def test_the_key_answers_an_entitled_member_with_the_16_byte_key(client, lesson, vip_member):
    client.force_login(vip_member)
    page = client.get(f"/courses/lessons/{lesson.pk}/")
    url = re.search(r'data-hls-src="([^"]+)"', page.content.decode()).group(1)
    response = client.get(_key_url(url))
    assert response.status_code == 200
    assert response.content == bytes(lesson.media_asset.key) and len(response.content) == 16
    assert response["Content-Type"] == "application/octet-stream"
    assert "no-store" in response["Cache-Control"]


def _refusal(response) -> str:
    assert response.status_code == 403, response.content[:200]
    return response.json()["code"]


def test_the_key_refuses_a_non_member_even_with_a_url_signed_for_them(lesson):
    stranger = UserFactory()
    token = grant_sign(
        PlaybackGrant(stranger.pk, lesson.pk, lesson.media_asset_id, int(time.time()) + 600, False)
    )
    assert _refusal(Client().get(f"/courses/media/{token}/key")) == "not_entitled"
    assert _refusal(Client().get(f"/courses/media/{token}/master.m3u8")) == "not_entitled"


def test_a_url_stops_working_when_the_membership_ends(lesson, vip_member, vip):
    playback = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    assert Client().get(_key_url(playback.url)).status_code == 200
    f.give_tier(vip_member, vip, expired=True)
    assert _refusal(Client().get(_key_url(playback.url))) == "not_entitled"
    assert _refusal(Client().get(_path(playback.url))) == "not_entitled"


def test_a_tampered_signature_is_refused(lesson, vip_member):
    playback = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    token = _path(playback.url).split("/")[3]
    value, signature = token.rsplit(":", 1)
    other = UserFactory()
    forged = [
        f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # one character of the signature
        f"{other.pk}{value[value.index('.') :]}:{signature}",  # another member's id under this signature
        value.replace(".u", ".s") + f":{signature}",  # the binding flipped
        "garbage",
    ]
    for bad in forged:
        assert _refusal(Client().get(f"/courses/media/{bad}/key")) == "playback_url_invalid", bad


def test_an_expired_url_is_refused(lesson, vip_member, settings):
    settings.MEDIA_PLAYBACK_URL_MINUTES = 10
    playback = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    grant = grant_unsign(_path(playback.url).split("/")[3])
    assert grant.expires_at - time.time() == pytest.approx(600, abs=5)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert _refusal(Client().get(_key_url(playback.url))) == "playback_url_expired"
        assert _refusal(Client().get(_path(playback.url))) == "playback_url_expired"


def test_another_members_url_is_refused(lesson, vip_member, vip):
    other_vip = UserFactory()
    f.give_tier(other_vip, vip)
    web = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=True)
    app = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    someone = Client()
    someone.force_login(other_vip)  # entitled themselves, but the URLs name someone else
    assert _refusal(someone.get(_key_url(web.url))) == "not_entitled"
    assert _refusal(someone.get(_key_url(app.url))) == "not_entitled"
    # a web URL needs its member's session: a visitor's copy fails; the app's URL carries the binding
    assert _refusal(Client().get(_key_url(web.url))) == "not_entitled"
    assert Client().get(_key_url(app.url)).status_code == 200


def test_a_free_preview_plays_for_a_visitor(vip_course, transcoded):
    preview = protected_lesson(vip_course, ready_asset_like(transcoded), preview=True)
    page = Client().get(f"/courses/lessons/{preview.pk}/")
    url = re.search(r'data-hls-src="([^"]+)"', page.content.decode()).group(1)
    assert Client().get(_key_url(url)).status_code == 200


def test_the_key_costs_a_fixed_number_of_queries(lesson, vip_member, django_assert_num_queries):
    app_url = _key_url(media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False).url)
    web_url = _key_url(media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=True).url)
    browser = Client()
    browser.force_login(vip_member)
    assert Client().get(app_url).status_code == 200  # warms the course and the member's facts caches
    with django_assert_num_queries(1):  # the lesson with its asset and the member's row
        assert Client().get(app_url).status_code == 200
    with django_assert_num_queries(3):  # the session, its user, the lesson with its asset
        assert browser.get(web_url).status_code == 200


# --- playback: the playlists ----------------------------------------------------------------------------


def test_playlists_are_served_rewritten_for_the_signed_member(lesson, vip_member):
    playback = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    player = Client()
    master = player.get(_path(playback.url))
    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "private" in master["Cache-Control"]
    variants = [line for line in master.content.decode().splitlines() if line.endswith(".m3u8")]
    assert variants == ["360p/index.m3u8", "720p/index.m3u8"]
    base = _path(playback.url).rsplit("/", 1)[0]
    rendition = player.get(f"{base}/360p/index.m3u8").content.decode()
    assert 'URI="key"' not in rendition
    assert f'#EXT-X-KEY:METHOD=AES-128,URI="{base}/key"' in rendition
    segments = [line for line in rendition.splitlines() if line and not line.startswith("#")]
    assert segments and all(
        s.startswith(f"{settings.MEDIA_URL}{lesson.media_asset.hls_path}/360p/seg_") for s in segments
    )
    for segment in segments:
        assert Path(settings.MEDIA_ROOT, segment.removeprefix(settings.MEDIA_URL)).is_file()
    assert _refusal(player.get(f"{base}/1080p/index.m3u8")) == "not_entitled"


def test_a_lesson_whose_asset_is_not_ready_says_so_and_hands_out_no_url(client, vip_course, vip_member):
    asset = MediaAsset.objects.create(title="处理中", source="media-sources/x.mp4", status="transcoding")
    lesson = protected_lesson(vip_course, asset)
    client.force_login(vip_member)
    page = client.get(f"/courses/lessons/{lesson.pk}/").content.decode()
    assert 'id="media-pending"' in page and "protected-player" not in page
    api = APIClient()
    api.force_authenticate(vip_member)
    assert api.get(f"/api/v1/lessons/{lesson.pk}/").json()["playback"] is None


# --- the API field and the page -------------------------------------------------------------------------


def test_the_lesson_api_gives_the_mini_program_a_signed_url_and_the_watermark(lesson, vip_member):
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(vip_member).access_token}")
    body = app.get(f"/api/v1/lessons/{lesson.pk}/").json()
    playback = body["playback"]
    assert playback["url"].startswith("http://testserver/courses/media/")
    assert playback["url"].endswith("/master.m3u8")
    assert playback["watermark"] == {
        "text": "VIP00042 小明同学爱学",
        "member_no": "VIP00042",
        "nickname": "小明同学爱学",
    }
    assert grant_unsign(_path(playback["url"]).split("/")[3]).session_bound is False
    assert playback["expires_at"].startswith(str(timezone.now().year))
    # the <video> sends no header and no cookie: the URL alone plays, for its member only
    assert Client().get(_key_url(playback["url"])).status_code == 200
    # a lesson without an asset keeps its media_url and has no playback; a locked one stays 403
    plain = f.make_course(tiers=[], price_fen=0, lessons=1, previews=1).lessons.get()
    assert app.get(f"/api/v1/lessons/{plain.pk}/").json()["playback"] is None
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"/api/v1/lessons/{lesson.pk}/").json()["code"] == "not_entitled"


@pytest.mark.parametrize(
    ("language", "unsupported"),
    [("zh-hans", "当前浏览器无法播放加密视频"), ("en", "This browser cannot play protected video")],
)
def test_the_page_renders_the_player_and_the_watermark(client, lesson, vip_member, language, unsupported):
    client.force_login(vip_member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(f"/courses/lessons/{lesson.pk}/").content.decode()
    assert 'id="protected-player"' in page
    assert '<div class="watermark" id="watermark" aria-hidden="true">VIP00042 小明同学爱学</div>' in page
    assert "vendor/hlsjs/hls.min.js" in page and "js/media.js" in page
    assert unsupported in page
    url = re.search(r'data-hls-src="([^"]+)"', page).group(1)
    assert grant_unsign(url.split("/")[3]).session_bound is True
    assert "blob:" in client.get(f"/courses/lessons/{lesson.pk}/")["Content-Security-Policy"]


# --- the demo -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_makes_a_transcoded_vip_video_once_and_says_when_ffmpeg_is_missing(settings, vip):
    from io import StringIO

    from sampledata.demo import media as demo_media
    from sampledata.demo.courses import COURSES

    settings.DEMO_MEDIA_VIDEO = True
    course = f.make_course(tiers=[vip], title=COURSES[0]["title"], lessons=2)
    settings.MEDIA_FFMPEG = "/nonexistent/ffmpeg"
    out = StringIO()
    demo_media.seed(stdout=out)
    assert "ffmpeg is not installed" in out.getvalue() and "apt-get install ffmpeg" in out.getvalue()
    assert not MediaAsset.objects.exists()

    settings.MEDIA_FFMPEG = "ffmpeg"
    with run_on_commit():
        demo_media.seed(stdout=out)
    lesson = Lesson.objects.get(course=course, title=demo_media.LESSON_TITLE)
    asset = lesson.media_asset
    assert (asset.status, asset.duration_seconds, lesson.position) == ("ready", 10, 3)
    assert [r["name"] for r in asset.renditions] == ["360p", "720p"]
    lesson.refresh_from_db()
    assert lesson.duration_seconds == 10
    demo_media.seed(stdout=out)
    assert MediaAsset.objects.count() == 1


def test_the_key_still_answers_from_the_database_when_the_cache_is_down(settings, lesson, vip_member, vip):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # never stores
    playback = media_playback.playback_for(user=vip_member, lesson=lesson, session_bound=False)
    assert Client().get(_key_url(playback.url)).status_code == 200
    assert Client().get(_path(playback.url)).status_code == 200
    f.give_tier(vip_member, vip, expired=True)
    assert _refusal(Client().get(_key_url(playback.url))) == "not_entitled"
