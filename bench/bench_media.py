"""Protected media benchmark: transcoding throughput per rendition, and the key endpoint beside the API floor.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhiquan_bench .venv/bin/python -m bench.bench_media

Transcoding: a 30-second 1280×720 test-pattern clip with a tone (and its tone alone, as an audio
upload) is encoded into each rendition exactly as `courses.media.transcode` does it
(`courses.media.ffmpeg.encode`: libx264 veryfast / AAC, AES-128 HLS); each rendition's ffmpeg is timed
by the CPU seconds it used (user + system of the child process, from getrusage) and by the wall clock.
The figure is seconds of media per second of CPU: how many seconds of upload one core turns into that
rendition each second.

Key endpoint: `GET /courses/media/<signed token>/key` as the mini-program's player calls it (no session,
no header: the signed URL carries the member), for a VIP member of a VIP-included lesson whose asset
was transcoded by the real task. Floor: `GET /api/v1/_bench/floor/` (core.apis.BenchFloorApi,
constant JSON through the full middleware and DRF stack) with that member's JWT, as the mini-program
calls the API. Both in-process through Django's WSGI test client, in alternating rounds, so both see
the same machine. Prints a markdown section.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import django_setup, int_arg, md_table

CLIP_SECONDS = 30
KEY_REQUESTS = 400
ROUNDS = 5


def _make_clip(path: Path, *, audio_only: bool) -> Path:
    inputs = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}"]
    if not audio_only:
        inputs = ["-f", "lavfi", "-i", f"testsrc=duration={CLIP_SECONDS}:size=1280x720:rate=25", *inputs]
    codecs = (
        ["-c:a", "aac"]
        if audio_only
        else ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    )
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *inputs, *codecs, "-shortest", str(path)],
        check=True,
    )
    return path


def transcoding_rows(work: Path) -> list[list[str]]:
    from courses.media import ffmpeg

    video = _make_clip(work / "clip.mp4", audio_only=False)
    audio = _make_clip(work / "clip.m4a", audio_only=True)
    key_info = ffmpeg.write_key_info(directory=work, key=os.urandom(16))
    rows = []
    for source, audio_only in ((video, False), (audio, True)):
        probe = ffmpeg.probe(source)
        for rendition in ffmpeg.ladder(audio_only=audio_only, probe=probe):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            ffmpeg.encode(
                source=source,
                rendition=rendition,
                probe=probe,
                out_dir=work / f"out-{rendition.name}",
                key_info=key_info,
                on_progress=lambda _done: None,
            )
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            size = sum(p.stat().st_size for p in (work / f"out-{rendition.name}").iterdir())
            rows.append(
                [
                    f"{rendition.name}"
                    + (
                        f" ({rendition.width_for(probe)}×{rendition.height})"
                        if rendition.height
                        else " (AAC)"
                    ),
                    f"{probe.duration:.0f}",
                    f"{cpu:.2f}",
                    f"**{probe.duration / cpu:.1f}**",
                    f"{wall:.2f}",
                    f"{probe.duration / wall:.1f}×",
                    f"{size * 8 / probe.duration / 1000:,.0f}",
                ]
            )
    return rows


def _key_setup():
    """A VIP member, a VIP course with a lesson playing an asset transcoded by the real task."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from courses.media import playback
    from courses.media import tasks as media_tasks
    from courses.models import Course, Lesson, MediaAsset
    from members.cache_versions import member_bump
    from members.models import Membership, MembershipTier, User

    tier, _created = MembershipTier.objects.get_or_create(
        code="VIP",
        defaults={
            "name": "VIP会员",
            "price_fen": 360000,
            "duration_days": 365,
            "rank": 1,
            "member_no_prefix": "VIP",
        },
    )
    member, _created = User.objects.get_or_create(
        username="bench-media-vip", defaults={"nickname": "基准会员"}
    )
    Membership.objects.update_or_create(
        user=member,
        defaults={
            "tier": tier,
            "starts_at": timezone.now() - timedelta(days=1),
            "ends_at": timezone.now() + timedelta(days=300),
        },
    )
    member_bump(member.pk)
    teacher, _created = User.objects.get_or_create(
        username="bench-media-teacher", defaults={"nickname": "讲师"}
    )
    course, created = Course.objects.get_or_create(
        title="bench: protected media", defaults={"teacher": teacher}
    )
    if created:
        course.included_in_tiers.set([tier])
    lesson = Lesson.objects.filter(course=course).select_related("media_asset").first()
    if lesson is None or lesson.media_asset is None or lesson.media_asset.status != MediaAsset.Status.READY:
        with tempfile.TemporaryDirectory() as work:
            clip = _make_clip(Path(work) / "key-clip.mp4", audio_only=False)
            asset = MediaAsset.objects.create(
                title="bench", source=ContentFile(clip.read_bytes(), name="bench.mp4")
            )
        media_tasks.media_transcode.apply(args=[asset.pk], throw=True)
        Lesson.objects.filter(course=course).delete()
        lesson = Lesson.objects.create(course=course, title="bench lesson", kind="video", media_asset=asset)
    grant = playback.playback_for(user=member, lesson=lesson, session_bound=False)
    assert grant is not None
    key_path = grant.url.replace("master.m3u8", "key")
    return key_path, str(RefreshToken.for_user(member).access_token), lesson


def main() -> None:
    os.environ["BENCHMARK_ENDPOINTS"] = "true"  # mounts the floor (config/urls.py)
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    load_before = os.getloadavg()[0]
    requests = int_arg("--requests", KEY_REQUESTS)
    with tempfile.TemporaryDirectory(prefix="zq-bench-media-") as work:
        rows = transcoding_rows(Path(work))

    key_path, access_token, lesson = _key_setup()
    floor_path = "/api/v1/_bench/floor/"
    player = Client()  # the <video>: no cookie, no header
    app = Client(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    first = player.get(key_path)
    assert first.status_code == 200 and len(first.content) == 16, first.content[:200]
    assert app.get(floor_path).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        player.get(key_path)
    key_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        app.get(floor_path)
    floor_queries = len(ctx.captured_queries)
    for _ in range(30):  # warm up both
        player.get(key_path)
        app.get(floor_path)
    timings = {"key": 0.0, "floor": 0.0}
    for _ in range(ROUNDS):
        for name, client, path in (("key", player, key_path), ("floor", app, floor_path)):
            start = time.perf_counter()
            for _ in range(requests):
                response = client.get(path)
            timings[name] += time.perf_counter() - start
            assert response.status_code == 200
    n = requests * ROUNDS
    key_rps, floor_rps = n / timings["key"], n / timings["floor"]
    ratio = key_rps / floor_rps

    print("## Protected media\n")
    print(
        f"Transcoding: a {CLIP_SECONDS}-second 1280×720 25 fps test-pattern clip with a tone, and the tone alone "
        "as an audio upload, encoded into each rendition as an upload is (`courses.media.ffmpeg.encode`: "
        "libx264 `veryfast` / AAC, 4-second AES-128 HLS segments), one ffmpeg per rendition. CPU seconds "
        "are the ffmpeg process's user + system time (getrusage); media seconds per CPU second is how many "
        "seconds of upload one core turns into that rendition each second.\n"
    )
    print(
        md_table(
            [
                "rendition",
                "media s",
                "CPU s",
                "media s per CPU s",
                "wall s",
                "faster than real time",
                "kbit/s written",
            ],
            rows,
        )
    )
    print(
        "\nAn upload is transcoded into its renditions one after another on one worker process (ffmpeg "
        "itself uses the cores it finds), so a video's total CPU cost is the sum of its rows. The "
        "figures move with the machine's other load (below).\n"
    )
    print(
        f"Key endpoint: `GET /courses/media/<token>/key` as the mini-program's `<video>` calls it (no cookie, "
        f"no header), for a VIP member, in-process through Django's WSGI test client on PostgreSQL and "
        f"Redis; {n} requests each, {ROUNDS} alternating rounds. Floor: `GET /api/v1/_bench/floor/` with "
        "the member's JWT (constant JSON through the same middleware plus DRF authentication, throttles "
        "and renderer).\n"
    )
    print(
        md_table(
            ["endpoint", "requests/s", "ms/request", "queries/request"],
            [
                ["key endpoint (subject)", f"{key_rps:,.0f}", f"{1000 / key_rps:.2f}", key_queries],
                ["API floor", f"{floor_rps:,.0f}", f"{1000 / floor_rps:.2f}", floor_queries],
            ],
        )
    )
    aim = "met" if ratio >= 0.5 else "NOT met"
    print(
        f"\nRatio key ÷ floor: **{ratio:.0%}** (aim ≥ 50%: {aim}). Each key request verifies the "
        "HMAC-SHA256 signature and expiry, reads the lesson with its asset and the member's row in one "
        "statement, and asks `lesson_access` again — the course and the member's entitlements in one "
        "cache round trip — so a URL stops working the moment the membership does. It is a plain Django "
        "view rather than DRF: it needs none of DRF's content negotiation, authentication classes or "
        "throttles (the signature is the credential). The first version, with the member's row and the "
        "lesson as two statements and the course and the entitlements as two cache reads, ran at 51% "
        "of the floor.\n"
    )
    print(
        f"Machine: {os.cpu_count()} cores, 1-minute load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after the run.\n"
    )
    print(
        "Command: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhiquan_bench .venv/bin/python -m bench.bench_media`\n"
    )
    del lesson
    sys.stdout.flush()


if __name__ == "__main__":
    main()
