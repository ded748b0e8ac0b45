"""Transcoding a `MediaAsset` into encrypted HLS (the writes of the media pipeline).

`media_transcode` claims the asset (queued → transcoding, one worker at a time; a ready asset is left
alone, so running the task twice does nothing), encodes each rendition in a temporary folder with the
asset's key (`courses.media.ffmpeg`), publishes the files to the `media_hls` storage under a fresh folder
and marks the asset ready — or leaves the exception to the task, which records it with
`media_transcode_failed` and retries or gives up (`courses.media.tasks`). Progress is written to the row
as ffmpeg reports it, at most once a second, so admin shows it.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from courses import cache
from courses.media import ffmpeg
from courses.media.ffmpeg import InvalidMedia, MediaError, TranscodeFailed
from courses.media.storage import hls_storage
from courses.models import Lesson, MediaAsset

__all__ = [
    "InvalidMedia",
    "MediaError",
    "TranscodeFailed",
    "media_asset_requeue",
    "media_transcode",
    "media_transcode_failed",
]

# A run that has not written progress for this long died with its worker: another may take it over.
STALE_AFTER = timedelta(minutes=30)
PROGRESS_EVERY_SECONDS = 1.0


def media_transcode(*, asset_id: int) -> MediaAsset | None:
    """Transcode the asset if it still needs it; None when there is nothing to do (gone, ready, or being
    transcoded by another worker right now). Raises MediaError (or OSError) when it fails."""
    asset = _claim(asset_id)
    if asset is None:
        return None
    with tempfile.TemporaryDirectory(prefix=f"zq-media-{asset.pk}-") as work:
        work_dir = Path(work)
        source = _local_source(asset, work_dir)
        probe = ffmpeg.probe(source)
        renditions = ffmpeg.ladder(audio_only=asset.kind == MediaAsset.Kind.AUDIO, probe=probe)
        key_info = ffmpeg.write_key_info(directory=work_dir, key=bytes(asset.key))
        out = work_dir / "hls"
        report = _progress_writer(asset.pk)
        for index, rendition in enumerate(renditions):

            def rendition_progress(done: float, index: int = index) -> None:
                report((index + done) / len(renditions))

            ffmpeg.encode(
                source=source,
                rendition=rendition,
                probe=probe,
                out_dir=out / rendition.name,
                key_info=key_info,
                on_progress=rendition_progress,
            )
        (out / ffmpeg.MASTER).write_text(ffmpeg.master_playlist(renditions, probe))
        hls_path = f"hls/{asset.pk}/{secrets.token_hex(8)}"
        _publish(out, hls_path)
    return _finish(
        asset_id=asset.pk,
        hls_path=hls_path,
        duration=probe.duration,
        renditions=[
            {
                "name": r.name,
                "bandwidth": r.bandwidth,
                "resolution": f"{r.width_for(probe)}x{r.height}" if r.height else "",
            }
            for r in renditions
        ],
    )


def _claim(asset_id: int) -> MediaAsset | None:
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update(of=("self",)).filter(pk=asset_id).first()
        if asset is None or asset.status == MediaAsset.Status.READY:
            return None
        if asset.status == MediaAsset.Status.TRANSCODING and asset.updated_at > timezone.now() - STALE_AFTER:
            return None
        asset.status = MediaAsset.Status.TRANSCODING
        asset.attempts += 1
        asset.progress_percent = 0
        asset.save(update_fields=["status", "attempts", "progress_percent", "updated_at"])
    return asset


def _local_source(asset: MediaAsset, work_dir: Path) -> Path:
    """A path ffmpeg can read: the file itself on a filesystem storage, else a copy in `work_dir`."""
    try:
        return Path(asset.source.path)
    except NotImplementedError:  # object storage: no local path
        local = work_dir / ("source" + Path(asset.source.name).suffix)
        with asset.source.open("rb") as remote, local.open("wb") as copy:
            shutil.copyfileobj(remote, copy, length=1024 * 1024)
        return local


def _progress_writer(asset_id: int) -> Callable[[float], None]:
    last = {"at": 0.0, "percent": -1}

    def report(fraction: float) -> None:
        percent = min(99, int(fraction * 100))  # 100 only once the files are published
        now = time.monotonic()
        if percent == last["percent"] or now - last["at"] < PROGRESS_EVERY_SECONDS:
            return
        last["at"], last["percent"] = now, percent
        MediaAsset.objects.filter(pk=asset_id, status=MediaAsset.Status.TRANSCODING).update(
            progress_percent=percent, updated_at=timezone.now()
        )

    return report


def _publish(folder: Path, hls_path: str) -> None:
    storage = hls_storage()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = f"{hls_path}/{path.relative_to(folder).as_posix()}"
            with path.open("rb") as handle:
                saved = storage.save(name, File(handle))
            if saved != name:  # the folder is fresh: a renamed file means someone else wrote there
                raise TranscodeFailed(f"storage renamed {name} to {saved}")


def _finish(*, asset_id: int, hls_path: str, duration: float, renditions: list[dict]) -> MediaAsset | None:
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update(of=("self",)).filter(pk=asset_id).first()
        if asset is None or asset.status != MediaAsset.Status.TRANSCODING:
            return None  # deleted, or another run finished first: this run's folder is simply unused
        asset.status = MediaAsset.Status.READY
        asset.progress_percent = 100
        asset.hls_path = hls_path
        asset.renditions = renditions
        asset.duration_seconds = max(1, round(duration))
        asset.error = ""
        asset.transcoded_at = timezone.now()
        asset.save()
        # Lessons that were given no length take the asset's (the player and progress read it).
        updated = Lesson.objects.filter(media_asset=asset, duration_seconds=0).update(
            duration_seconds=asset.duration_seconds
        )
        if updated:
            cache.bump()  # queryset updates send no signal: the cached course pages must not keep 0
    return asset


def media_transcode_failed(*, asset_id: int, error: str, final: bool) -> None:
    """Record a failed run: `final` → failed (shown in admin with the error); else queued again with the
    error of this attempt while the task waits to retry."""
    status = MediaAsset.Status.FAILED if final else MediaAsset.Status.QUEUED
    MediaAsset.objects.filter(pk=asset_id).exclude(status=MediaAsset.Status.READY).update(
        status=status, error=error[:4000], progress_percent=0, updated_at=timezone.now()
    )


def media_asset_requeue(*, asset: MediaAsset) -> bool:
    """An operator asks for another try of a failed asset: queued again (the caller enqueues the task
    after commit). False when the asset is not failed."""
    updated = MediaAsset.objects.filter(pk=asset.pk, status=MediaAsset.Status.FAILED).update(
        status=MediaAsset.Status.QUEUED, progress_percent=0, updated_at=timezone.now()
    )
    return bool(updated)
