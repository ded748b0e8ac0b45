"""Celery tasks of protected media: transcoding one asset (retried with backoff, bounded, then reported
failed) and the sweep that re-enqueues assets whose task was lost (broker down at upload, a worker
killed mid-run). Thin: take ids, call one service, safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.queueing import ResilientTask
from courses.media import transcode
from courses.models import MediaAsset

RETRY_BASE_SECONDS = 60
# Queued this long without a run: its task was lost (a retry waits at most 4 ** retries minutes).
SWEEP_QUEUED_AFTER = timedelta(minutes=30)


def retry_countdown(retries: int) -> int:
    """1, 4, 16 … minutes: a full disk or a restarted worker gets time to come back."""
    return RETRY_BASE_SECONDS * 4**retries


@shared_task(name="courses.tasks.media_transcode", bind=True, acks_late=True, base=ResilientTask)
def media_transcode(self, asset_id: int) -> None:
    try:
        transcode.media_transcode(asset_id=asset_id)
    except transcode.InvalidMedia as exc:  # not audio or video: another try reads the same bytes
        transcode.media_transcode_failed(asset_id=asset_id, error=str(exc), final=True)
    except (transcode.TranscodeFailed, OSError) as exc:
        retries = self.request.retries or 0
        final = retries >= settings.MEDIA_TRANSCODE_MAX_RETRIES
        transcode.media_transcode_failed(asset_id=asset_id, error=str(exc), final=final)
        if not final:
            raise self.retry(
                exc=exc, countdown=retry_countdown(retries), max_retries=settings.MEDIA_TRANSCODE_MAX_RETRIES
            ) from exc


@shared_task(name="courses.tasks.media_transcode_sweep", acks_late=True)
def media_transcode_sweep() -> int:
    """Every 10 minutes: enqueue assets queued for a while, or transcoding with no progress for a while."""
    now = timezone.now()
    due = MediaAsset.objects.filter(
        Q(status=MediaAsset.Status.QUEUED, updated_at__lt=now - SWEEP_QUEUED_AFTER)
        | Q(status=MediaAsset.Status.TRANSCODING, updated_at__lt=now - transcode.STALE_AFTER)
    ).values_list("pk", flat=True)[:100]
    ids = list(due)
    for asset_id in ids:
        media_transcode.delay(asset_id)
    return len(ids)
