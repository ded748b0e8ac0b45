"""Shareable PNG posters (achievement posters, referral posters) with a CJK font and a QR code.

The QR carries the member's referral link, or a mini-program code from `getwxacodeunlimit` when the
mini-program is configured (pass `qr_png`).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

import qrcode
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]
WIDTH, HEIGHT = 750, 1200
BRAND = (26, 173, 25)


@lru_cache(maxsize=16)
def cjk_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def has_cjk_font() -> bool:
    return any(Path(c).exists() for c in FONT_CANDIDATES)


def qr_image(payload: str, *, box_size: int = 8) -> Image.Image:
    code = qrcode.QRCode(border=2, box_size=box_size, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").convert("RGB")
    return image


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(payload).save(buffer, format="PNG")
    return buffer.getvalue()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, max_width: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > max_width and current:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def render_poster(
    *,
    title: str,
    subtitle: str = "",
    stats: list[tuple[str, str]] | None = None,
    qr_payload: str = "",
    qr_png_bytes: bytes | None = None,
    footer: str = "",
) -> bytes:
    """A 750×1200 PNG: brand header, title, up to 3 big stats, QR code and a footer line."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 260], fill=BRAND)
    draw.text((48, 60), _("知圈"), font=cjk_font(56), fill="white")
    y = 150
    for line in _wrap(draw, title, cjk_font(44), WIDTH - 96)[:2]:
        draw.text((48, y), line, font=cjk_font(44), fill="white")
        y += 56
    y = 300
    for line in _wrap(draw, subtitle, cjk_font(32), WIDTH - 96)[:3]:
        draw.text((48, y), line, font=cjk_font(32), fill=(60, 60, 60))
        y += 46
    stats = (stats or [])[:3]
    if stats:
        column = (WIDTH - 96) // len(stats)
        for index, (value, label) in enumerate(stats):
            x = 48 + index * column
            draw.text((x, y + 30), value, font=cjk_font(72), fill=BRAND)
            draw.text((x, y + 120), label, font=cjk_font(28), fill=(120, 120, 120))
    if qr_png_bytes:
        qr = Image.open(io.BytesIO(qr_png_bytes)).convert("RGB")
    elif qr_payload:
        qr = qr_image(qr_payload)
    else:
        qr = None
    if qr is not None:
        qr = qr.resize((300, 300))
        image.paste(qr, ((WIDTH - 300) // 2, 720))
        draw.text(
            (WIDTH // 2, 1040), _("长按识别二维码加入"), font=cjk_font(28), fill=(90, 90, 90), anchor="mm"
        )
    if footer:
        draw.text((WIDTH // 2, 1120), footer[:40], font=cjk_font(26), fill=(150, 150, 150), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
