"""Validate and store user-uploaded images (check-ins, posts…).

An upload is accepted by what Pillow finds inside it — never by its name or declared content type —
and by its size (settings.UPLOAD_IMAGE_MAX_BYTES). Stored names are random, with the extension of the
real format.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError

IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def validate_images(uploads: Any, *, max_count: int = 9, field: str = "images") -> list[tuple[Any, str]]:
    """Return [(upload, extension)] or raise ApplicationError (too_many_images / image_too_large / invalid_image)."""
    from PIL import Image, UnidentifiedImageError

    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > max_count:
        raise ApplicationError(
            "too_many_images",
            _("最多上传 %(n)s 张图片") % {"n": max_count},
            fields={field: [_("图片过多")]},
        )
    checked = []
    for upload in uploads:
        if upload.size > settings.UPLOAD_IMAGE_MAX_BYTES:
            raise ApplicationError(
                "image_too_large",
                _("图片不能超过 %(mb)s MB") % {"mb": settings.UPLOAD_IMAGE_MAX_BYTES // (1024 * 1024)},
                fields={field: [_("图片过大")]},
            )
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ApplicationError(
                "invalid_image",
                _("只能上传 JPG、PNG、GIF 或 WebP 图片"),
                fields={field: [_("不是有效的图片")]},
            ) from exc
        if fmt not in IMAGE_FORMATS:
            raise ApplicationError(
                "invalid_image", _("只能上传 JPG、PNG、GIF 或 WebP 图片"), fields={field: [_("格式不支持")]}
            )
        upload.seek(0)
        checked.append((upload, IMAGE_FORMATS[fmt]))
    return checked


def store_images(checked: list[tuple[Any, str]], *, folder: str) -> list[str]:
    """Save validated uploads under `folder/YYYY/MM/<random>.<ext>`; return the storage names."""
    today = timezone.localdate()
    return [
        default_storage.save(os.path.join(folder, f"{today:%Y/%m}", f"{uuid.uuid4().hex}.{ext}"), upload)
        for upload, ext in checked
    ]
