"""Validate, re-encode and store user-uploaded images (check-ins, posts, circle covers).

An upload is accepted by what Pillow finds inside it — never by its name or declared content type —
by its size (settings.UPLOAD_IMAGE_MAX_BYTES) and by its pixel count (UPLOAD_IMAGE_MAX_PIXELS, checked
from the header before any pixel is decoded: a 69-byte PNG may declare 13000×13000). What is stored is
not the upload but a fresh encoding of its pixels in the same whitelisted format, so EXIF (GPS
position, camera serial), comments and anything appended after the image data are gone; the EXIF
orientation is applied first so photos stay upright. Stored names are random, with the extension of
the real format.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from core.errors import ApplicationError

IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def validate_images(uploads: Any, *, max_count: int = 9, field: str = "images") -> list[tuple[Any, str]]:
    """Return [(upload, extension)] or raise ApplicationError (too_many_images / image_too_large / invalid_image)."""
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
                width, height = image.size
                image.verify()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as exc:
            raise ApplicationError(
                "invalid_image",
                _("只能上传 JPG、PNG、GIF 或 WebP 图片"),
                fields={field: [_("不是有效的图片")]},
            ) from exc
        if fmt not in IMAGE_FORMATS:
            raise ApplicationError(
                "invalid_image", _("只能上传 JPG、PNG、GIF 或 WebP 图片"), fields={field: [_("格式不支持")]}
            )
        if width * height > settings.UPLOAD_IMAGE_MAX_PIXELS:
            raise ApplicationError("image_too_large", _("图片尺寸过大"), fields={field: [_("图片尺寸过大")]})
        upload.seek(0)
        checked.append((_reencode(upload, fmt, field=field), IMAGE_FORMATS[fmt]))
    return checked


def store_images(checked: list[tuple[Any, str]], *, folder: str) -> list[str]:
    """Save validated uploads under `folder/YYYY/MM/<random>.<ext>`; return the storage names."""
    today = timezone.localdate()
    return [
        default_storage.save(os.path.join(folder, f"{today:%Y/%m}", f"{uuid.uuid4().hex}.{ext}"), upload)
        for upload, ext in checked
    ]


def _reencode(upload: UploadedFile, fmt: str, *, field: str) -> ContentFile[bytes]:
    """The pixels of `upload`, encoded afresh in `fmt` without any metadata."""

    try:
        with Image.open(upload) as image:
            if fmt == "GIF":
                frames = [frame.copy() for frame in _frames(image)]
                out = io.BytesIO()
                frames[0].save(out, "GIF", save_all=len(frames) > 1, append_images=frames[1:], loop=0)
            else:
                upright: Image.Image = ImageOps.exif_transpose(image)
                if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                out = io.BytesIO()
                options = {"quality": 88} if fmt in ("JPEG", "WEBP") else {}
                upright.save(out, fmt, **options)  # no exif=, no icc_profile=: metadata is dropped
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ApplicationError(
            "invalid_image", _("只能上传 JPG、PNG、GIF 或 WebP 图片"), fields={field: [_("不是有效的图片")]}
        ) from exc
    name = os.path.basename(getattr(upload, "name", "") or "image")
    return ContentFile(out.getvalue(), name=f"{os.path.splitext(name)[0]}.{IMAGE_FORMATS[fmt]}")


def _frames(image: Image.Image, limit: int = 300) -> Iterator[Image.Image]:
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= limit:
            break
        yield frame.convert("RGBA") if frame.mode not in ("P", "L", "RGB", "RGBA") else frame
