"""Shareable PNG posters (referral, group-buy and camp achievement posters) with a CJK font and a QR
code, laid out in the creator's brand (name, logo, colours, poster background: `core.brand`), and the
generated covers of items an operator left without one.

The QR carries the member's referral link, or a mini-program code from `getwxacodeunlimit` when the
mini-program is configured (pass `qr_png_bytes`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import qrcode
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from core import brand as site_brand
from core.models import Brand

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]
REGULAR_CANDIDATES = [c for c in FONT_CANDIDATES if "Bold" not in c]
SIMPLIFIED_CHINESE_FACE = 2  # in Noto's .ttc collections: JP, KR, SC, TC, HK
WIDTH, HEIGHT = 750, 1200
INK, MUTED, FAINT, LINE = (31, 35, 41), (95, 102, 112), (150, 155, 162), (230, 232, 235)
MARGIN = 48
BAND_HEIGHT = 400  # the brand-coloured head: brand, who invites, the headline
FOOT_HEIGHT = 84  # the brand-coloured foot: the site's name and footer line
CARD_TOP, CARD_BOTTOM = 352, HEIGHT - FOOT_HEIGHT - 28
QR_SIZE = 232


@lru_cache(maxsize=32)
def cjk_font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES if bold else REGULAR_CANDIDATES + FONT_CANDIDATES:
        if Path(candidate).exists():
            index = SIMPLIFIED_CHINESE_FACE if candidate.endswith(".ttc") else 0
            return ImageFont.truetype(candidate, size, index=index)
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


def _clipped(draw: ImageDraw.ImageDraw, text: str, font: Any, max_width: int, max_lines: int) -> list[str]:
    """`text` wrapped to `max_width`, at most `max_lines` lines, the last one ending in … if cut."""
    lines = _wrap(draw, text, font, max_width)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and draw.textlength(last + "…", font=font) > max_width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last + "…"]


def _mix(colour: tuple[int, int, int], other: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    r, g, b = (round(c * (1 - share) + o * share) for c, o in zip(colour, other, strict=True))
    return (r, g, b)


def brand_image(field: str) -> Image.Image | None:
    """The brand's uploaded `logo` or `poster_background` as RGBA, or None (none set, or unreadable)."""
    row = Brand.objects.filter(pk=1).first()
    upload = getattr(row, field, None) if row is not None else None
    if not upload:
        return None
    try:
        with upload.open("rb") as handle:
            image = Image.open(handle)
            image.load()
    except (OSError, ValueError):
        return None
    return image.convert("RGBA")


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` scaled to fill `size` and centre-cropped (CSS object-fit: cover)."""
    scale = max(size[0] / image.width, size[1] / image.height)
    scaled = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    left, top = (scaled.width - size[0]) // 2, (scaled.height - size[1]) // 2
    return scaled.crop((left, top, left + size[0], top + size[1]))


def _head(image: Image.Image, info: site_brand.BrandInfo, colour: tuple[int, int, int]) -> None:
    """The brand band: the poster background under a veil of the brand colour (or the colour alone,
    with two soft circles), and the logo or initial with the site's name and tagline."""
    background = brand_image("poster_background") if info.poster_background_url else None
    band = Image.new("RGBA", (WIDTH, BAND_HEIGHT), (*colour, 255))
    if background is not None:
        band = Image.alpha_composite(
            _cover(background, band.size), Image.new("RGBA", band.size, (*colour, 150))
        )
    else:
        circles = Image.new("RGBA", band.size, (0, 0, 0, 0))
        shapes = ImageDraw.Draw(circles)
        shapes.ellipse([WIDTH - 250, -170, WIDTH + 110, 190], fill=(255, 255, 255, 30))
        shapes.ellipse([-120, BAND_HEIGHT - 150, 170, BAND_HEIGHT + 140], fill=(255, 255, 255, 22))
        band = Image.alpha_composite(band, circles)
    image.paste(band.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(image)
    logo = brand_image("logo") if info.logo_url else None
    if logo is not None:
        logo.thumbnail((64, 64))
        plate = Image.new("RGBA", (72, 72), (255, 255, 255, 255))
        plate.alpha_composite(logo, ((72 - logo.width) // 2, (72 - logo.height) // 2))
        mask = Image.new("L", plate.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, 71, 71], radius=16, fill=255)
        image.paste(plate.convert("RGB"), (MARGIN, 44), mask)
    else:
        draw.rounded_rectangle([MARGIN, 44, MARGIN + 71, 44 + 71], radius=16, fill="white")
        draw.text((MARGIN + 36, 80), info.initial, font=cjk_font(40), fill=colour, anchor="mm")
    name_x = MARGIN + 92
    draw.text((name_x, 52), info.site_name, font=cjk_font(36), fill="white")
    if info.tagline:
        tagline = _clipped(draw, info.tagline, cjk_font(24, bold=False), WIDTH - name_x - MARGIN, 1)
        draw.text((name_x, 98), tagline[0], font=cjk_font(24, bold=False), fill=(255, 255, 255))


def _foot(draw: ImageDraw.ImageDraw, info: site_brand.BrandInfo, colour: tuple[int, int, int]) -> None:
    """The brand-coloured foot band: the site's name and its footer (or tagline)."""
    draw.rectangle([0, HEIGHT - FOOT_HEIGHT, WIDTH, HEIGHT], fill=colour)
    line = (
        f"{info.site_name} · {info.footer_text or info.tagline}"
        if (info.footer_text or info.tagline)
        else info.site_name
    )
    text = _clipped(draw, line, cjk_font(24, bold=False), WIDTH - 2 * MARGIN, 1)[0]
    draw.text(
        (WIDTH // 2, HEIGHT - FOOT_HEIGHT // 2),
        text,
        font=cjk_font(24, bold=False),
        fill="white",
        anchor="mm",
    )


def render_poster(
    *,
    title: str,
    subtitle: str = "",
    stats: list[tuple[str, str]] | None = None,
    benefits: list[str] | None = None,
    benefits_title: str = "",
    qr_payload: str = "",
    qr_png_bytes: bytes | None = None,
    footer: str = "",
    info: site_brand.BrandInfo | None = None,
) -> bytes:
    """A 750×1200 PNG in the brand's colours, top to bottom: the brand band (poster background, logo,
    site name, tagline) with who invites (`subtitle`) and the headline (`title`); a white card with up
    to 3 big figures (`stats`) and what the reader gets (`benefits`, or the brand's description), then
    the QR code beside "long-press to scan" and `footer` (e.g. the referral code); a brand-coloured foot
    with the site's name. Nothing of the platform's own name is drawn unless it is the brand's.

    `info` is the saved brand unless given: the brand admin's live preview passes unsaved edits.
    The site's full name is written everywhere; the short name is only the badge's initial."""
    info = info or site_brand.current()
    # the primary colour as pages use it: dark enough for white text on it (WCAG AA)
    colour = site_brand.hex_to_rgb(info.primary_accessible)
    image = Image.new("RGB", (WIDTH, HEIGHT), _mix(colour, (255, 255, 255), 0.92))
    _head(image, info, colour)
    draw = ImageDraw.Draw(image)
    y = 160
    if subtitle:
        for line in _clipped(draw, subtitle, cjk_font(28, bold=False), WIDTH - 2 * MARGIN, 1):
            draw.text((MARGIN, y), line, font=cjk_font(28, bold=False), fill="white")
            y += 44
    for line in _clipped(draw, title, cjk_font(48), WIDTH - 2 * MARGIN, 2):
        draw.text((MARGIN, y), line, font=cjk_font(48), fill="white")
        y += 64

    # the card: a soft shadow, then white
    left, right = MARGIN - 16, WIDTH - MARGIN + 16
    shadow = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle(
        [left, CARD_TOP + 10, right, CARD_BOTTOM + 10], radius=28, fill=(*_mix(colour, INK, 0.6), 70)
    )
    blurred = shadow.filter(ImageFilter.GaussianBlur(14))
    image.paste(Image.alpha_composite(image.convert("RGBA"), blurred).convert("RGB"))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([left, CARD_TOP, right, CARD_BOTTOM], radius=28, fill="white")
    inner_left, inner_width = MARGIN + 24, WIDTH - 2 * (MARGIN + 24)
    qr_top = CARD_BOTTOM - 40 - QR_SIZE
    y = CARD_TOP + 40
    stats = (stats or [])[:3]
    if stats:
        column = inner_width // len(stats)
        for index, (value, label) in enumerate(stats):
            x = inner_left + index * column
            draw.text((x, y - 6), value, font=cjk_font(56), fill=colour)
            draw.text((x, y + 70), label, font=cjk_font(24, bold=False), fill=MUTED)
        y += 116
        draw.line([inner_left, y, inner_left + inner_width, y], fill=LINE, width=2)
        y += 28
    body_font, body_step = cjk_font(28, bold=False), 40
    limit = qr_top - 40  # the body stops above the QR's divider; what does not fit is left out

    def room() -> int:
        return max(0, (limit - y) // body_step)

    items = [b for b in (benefits or []) if b]
    if items and room() >= 2:
        for line in _clipped(draw, benefits_title or _("你将获得"), cjk_font(30), inner_width, 1):
            draw.text((inner_left, y), line, font=cjk_font(30), fill=INK)
        y += 50
        for item in items:
            if room() < 1:
                break
            wrapped = _clipped(draw, item, body_font, inner_width - 36, min(2, room()))
            draw.ellipse([inner_left, y + 14, inner_left + 14, y + 28], fill=colour)
            for line in wrapped:
                draw.text((inner_left + 36, y), line, font=body_font, fill=INK)
                y += body_step
            y += 6
    elif info.description and room() > 0:
        for line in _clipped(draw, info.description, body_font, inner_width, min(4, room())):
            draw.text((inner_left, y), line, font=body_font, fill=INK)
            y += body_step

    # the QR code and what to do with it
    draw.line([inner_left, qr_top - 32, inner_left + inner_width, qr_top - 32], fill=LINE, width=2)
    if qr_png_bytes:
        qr = Image.open(io.BytesIO(qr_png_bytes)).convert("RGB")
    elif qr_payload:
        qr = qr_image(qr_payload)
    else:
        qr = None
    text_x = inner_left
    if qr is not None:
        image.paste(qr.resize((QR_SIZE, QR_SIZE)), (inner_left - 8, qr_top))
        text_x = inner_left + QR_SIZE + 24
    text_width = inner_left + inner_width - text_x
    ty = qr_top + 40
    for line in _clipped(draw, _("长按识别二维码"), cjk_font(32), text_width, 2):
        draw.text((text_x, ty), line, font=cjk_font(32), fill=INK)
        ty += 48
    for line in _clipped(
        draw, _("了解详情并加入%(site)s") % {"site": info.site_name}, cjk_font(24, bold=False), text_width, 2
    ):
        draw.text((text_x, ty), line, font=cjk_font(24, bold=False), fill=MUTED)
        ty += 36
    if footer:
        ty += 12
        for line in _clipped(draw, footer, cjk_font(24), text_width, 2):
            draw.text((text_x, ty), line, font=cjk_font(24), fill=colour)
            ty += 36
    _foot(draw, info, colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# The brand admin's live preview draws the poster members share most, which the referrals app knows
# how to lay out (its tiers and benefits). core sits below the apps and cannot import them, so the
# app registers the renderer at start-up (referrals/apps.py); until then a community poster stands in.
BrandPreview = Callable[..., bytes]  # (*, user, info: BrandInfo) -> PNG bytes
_brand_preview: BrandPreview | None = None


def set_brand_preview(renderer: BrandPreview) -> None:
    global _brand_preview
    _brand_preview = renderer


def brand_preview_png(*, user: Any, info: site_brand.BrandInfo, share_url: str) -> bytes:
    """The poster `user` would share, drawn with `info` (the brand admin's unsaved edits)."""
    if _brand_preview is not None:
        return _brand_preview(user=user, info=info)
    return render_poster(
        title=info.share_title,
        subtitle=_("%(name)s 邀请你加入%(site)s") % {"name": user.get_username(), "site": info.site_name},
        qr_payload=share_url,
        info=info,
    )


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


def render_certificate(
    *, heading: str, name: str, lines: list[str], signature: str, date: str, number: str
) -> bytes:
    """A completion certificate (结营/结业证书) as a landscape PNG in the creator's colour and name: the
    heading, the member's name, what they did, who taught it, the date and the certificate's number."""
    width, height = 1200, 850
    image = Image.new("RGB", (width, height), (255, 253, 246))
    draw = ImageDraw.Draw(image)
    info = site_brand.current()
    colour = info.primary_rgb  # the creator's colour and name, not the platform's
    draw.rectangle([24, 24, width - 24, height - 24], outline=colour, width=6)
    draw.rectangle([40, 40, width - 40, height - 40], outline=(200, 180, 120), width=2)
    centre = width // 2
    draw.text((centre, 84), info.site_name, font=cjk_font(30), fill=colour, anchor="mm")
    draw.text((centre, 150), heading, font=cjk_font(72), fill=colour, anchor="mm")
    draw.text((centre, 260), name, font=cjk_font(56), fill=(30, 30, 30), anchor="mm")
    y = 370
    for line in lines:
        for part in _clipped(draw, line, cjk_font(34), width - 160, 2):
            draw.text((centre, y), part, font=cjk_font(34), fill=(70, 70, 70), anchor="mm")
            y += 64
    draw.text((centre, 620), signature, font=cjk_font(30), fill=(90, 90, 90), anchor="mm")
    draw.text((centre, 690), date, font=cjk_font(30), fill=(90, 90, 90), anchor="mm")
    draw.text((centre, 770), number, font=cjk_font(24), fill=(150, 150, 150), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
