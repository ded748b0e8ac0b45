"""Demo data of protected media: a 10-second test video (ffmpeg's test pattern and a tone), uploaded as
the operator would in admin and attached to a lesson of the VIP course, then transcoded by the same
task as any upload (on the worker `make demo` starts). Needs Debian's ffmpeg and says so when it is
missing; settings.DEMO_MEDIA_VIDEO turns it off. Idempotent."""

from __future__ import annotations

import subprocess
import tempfile
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from courses.media import ffmpeg
from courses.media import tasks as media_tasks
from courses.models import Course, Lesson, MediaAsset
from members.models import User
from sampledata.demo.courses import COURSES

LESSON_TITLE = "加餐：加密视频演示"
ASSET_TITLE = "演示视频（ffmpeg 测试图）"
SECONDS = 10


def seed(*, stdout, history: bool = False) -> None:
    if not settings.DEMO_MEDIA_VIDEO:
        return
    course = Course.objects.filter(title=COURSES[0]["title"]).first()  # the VIP course
    if course is None or Lesson.objects.filter(course=course, title=LESSON_TITLE).exists():
        return
    if not ffmpeg.available():
        stdout.write(
            "media: ffmpeg is not installed, so the demo has no protected video — install Debian's "
            "ffmpeg (`scripts/bootstrap.sh --system` as root, or `apt-get install ffmpeg`) and run "
            "seed_demo again"
        )
        return
    with tempfile.TemporaryDirectory(prefix="zq-demo-media-") as work:
        clip = _generate(Path(work) / "demo-video.mp4")
        with clip.open("rb") as handle:
            asset = MediaAsset.objects.create(
                title=ASSET_TITLE,
                kind=MediaAsset.Kind.VIDEO,
                source=File(handle, name="demo-video.mp4"),
                created_by=User.objects.filter(username="operator").first(),
            )
    position = (course.lessons.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    Lesson.objects.create(
        course=course,
        title=LESSON_TITLE,
        position=position,
        kind=Lesson.Kind.VIDEO,
        media_asset=asset,
        body="【讲义】这节课的视频经过 AES-128 加密，只有 VIP 会员能播放，画面上飘动的水印是你的会员编号。",
    )
    transaction.on_commit(partial(media_tasks.media_transcode.delay, asset.pk))
    stdout.write(
        f"media: {SECONDS}-second demo video queued for transcoding (admin: 加密音视频), "
        f"VIP lesson «{LESSON_TITLE}»"
    )


def _generate(path: Path) -> Path:
    subprocess.run(
        [
            settings.MEDIA_FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={SECONDS}:size=1280x720:rate=25",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={SECONDS}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        timeout=300,
    )
    return path
