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

from core import brand as site_brand

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]
WIDTH, HEIGHT = 750, 1200
BRAND = (26, 173, 25)  # the default primary colour; posters use the brand's (core.brand)


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
    info = site_brand.current()
    colour = info.primary_rgb
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 260], fill=colour)
    draw.text((48, 60), info.site_name, font=cjk_font(56), fill="white")
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
            draw.text((x, y + 30), value, font=cjk_font(72), fill=colour)
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


# A few calm two-colour gradients for generated covers (demo data, and items an operator left without one).
COVER_PALETTES = [
    ((38, 84, 124), (76, 161, 175)),
    ((121, 63, 141), (214, 112, 134)),
    ((28, 110, 80), (130, 190, 120)),
    ((180, 90, 40), (240, 170, 80)),
    ((45, 55, 72), (110, 130, 160)),
]


def cover_png(*, title: str, kicker: str = "", index: int = 0, size: tuple[int, int] = (640, 360)) -> bytes:
    """A 16:9 cover: a diagonal gradient, soft circles, a small kicker line and the title (two lines)."""
    width, height = size
    start, end = COVER_PALETTES[index % len(COVER_PALETTES)]
    image = Image.new("RGB", size, start)
    draw = ImageDraw.Draw(image)
    for x in range(width):
        t = x / max(1, width - 1)
        colour = tuple(int(start[i] + (end[i] - start[i]) * t) for i in range(3))
        draw.line([(x, 0), (x, height)], fill=colour)
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    shapes.ellipse([width - 260, -120, width + 80, 220], fill=(255, 255, 255, 38))
    shapes.ellipse([-80, height - 140, 180, height + 120], fill=(255, 255, 255, 28))
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(image)
    if kicker:
        draw.text((36, 36), kicker, font=cjk_font(24), fill=(255, 255, 255))
    y = height - 150
    for line in _wrap(draw, title, cjk_font(44), width - 72)[:2]:
        draw.text((36, y), line, font=cjk_font(44), fill="white")
        y += 58
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
