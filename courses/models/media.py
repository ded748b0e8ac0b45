"""Protected media (`MediaAsset`): an uploaded video or audio file, transcoded into AES-128 encrypted HLS
renditions by `courses.media.transcode`, played only through signed playlist and key URLs
(`courses.media.views`). A lesson plays its asset instead of its `media_url` (`Lesson.media_asset`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

__all__ = ["MediaAsset", "media_source_storage"]


def media_source_storage():
    """Originals live in their own storage (settings.STORAGES["media_sources"]), never under MEDIA_ROOT,
    which a front server or CDN publishes: an unencrypted original there would undo the encryption."""
    return storages["media_sources"]


def new_media_key() -> bytes:
    return secrets.token_bytes(16)


class MediaAsset(TimeStampedModel):
    class Kind(models.TextChoices):
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        TRANSCODING = "transcoding", _("转码中")
        READY = "ready", _("可播放")
        FAILED = "failed", _("失败")

    title = models.CharField(_("标题"), max_length=120)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.VIDEO)
    source = models.FileField(
        _("原始文件"), upload_to="media-sources/%Y/%m/", storage=media_source_storage, max_length=300
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_percent = models.PositiveSmallIntegerField(_("转码进度（%）"), default=0)
    duration_seconds = models.PositiveIntegerField(_("时长（秒）"), default=0)
    error = models.TextField(_("错误信息"), blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("转码次数"), default=0)
    # The AES-128 key of every segment. Served only by the key endpoint, to an entitled member, on each
    # request (courses.media.views.key); never written to the storage the segments are published from.
    key = models.BinaryField(_("加密密钥"), max_length=16, default=new_media_key, editable=False)
    # Where the renditions are in settings.STORAGES["media_hls"]: a fresh folder per transcoding run,
    # so a re-run never mixes its segments with an earlier run's.
    hls_path = models.CharField(_("HLS 目录"), max_length=200, blank=True, default="")
    # [{"name": "360p", "bandwidth": 900000, "resolution": "640x360"}, …] in the master playlist's order
    renditions = models.JSONField(_("清晰度"), default=list, blank=True)
    transcoded_at = models.DateTimeField(_("转码完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("加密音视频")
        verbose_name_plural = _("加密音视频")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="media_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(progress_percent__lte=100), name="media_progress_max_100"),
            models.CheckConstraint(
                condition=~Q(status="ready") | ~Q(hls_path=""), name="media_ready_has_output"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY
