"""The creator's brand as every page, e-mail, notification and poster sees it.

`current()` reads the singleton `core.models.Brand` through the cache (one cache read per request,
no SQL once warm); saving the row forgets the cached copy, so the next page and the next poster show
the change. Defaults (no row yet) are the platform's own name, translated for English pages; anything
an operator typed is shown as typed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

CACHE_KEY = "core:brand:v1"
CACHE_SECONDS = 24 * 3600

DEFAULT_NAME = gettext_noop("知圈")
DEFAULT_TAGLINE = gettext_noop("知识付费会员社群")
DEFAULT_DESCRIPTION = gettext_noop("一次开通，课程、线下课、训练营和付费圈子全部解锁。")
DEFAULT_PRIMARY = "#1aad19"
DEFAULT_ACCENT = "#d93026"
_DEFAULTS = {DEFAULT_NAME, DEFAULT_TAGLINE, DEFAULT_DESCRIPTION}


def _t(value: str) -> str:
    """The platform's default texts follow the page language; an operator's own words do not."""
    return _(value) if value in _DEFAULTS else value


@dataclass(frozen=True)
class BrandInfo:
    site_name_raw: str = DEFAULT_NAME
    short_name_raw: str = DEFAULT_NAME
    tagline_raw: str = DEFAULT_TAGLINE
    description_raw: str = DEFAULT_DESCRIPTION
    logo_url: str = ""
    poster_background_url: str = ""
    primary_color: str = DEFAULT_PRIMARY
    accent_color: str = DEFAULT_ACCENT
    share_title_raw: str = ""
    footer_text: str = ""
    terms_url: str = ""
    privacy_url: str = ""
    icp_text: str = ""
    version: str = "0"

    @property
    def site_name(self) -> str:
        return _t(self.site_name_raw)

    @property
    def short_name(self) -> str:
        return _t(self.short_name_raw or self.site_name_raw)

    @property
    def tagline(self) -> str:
        return _t(self.tagline_raw)

    @property
    def description(self) -> str:
        return _t(self.description_raw)

    @property
    def share_title(self) -> str:
        if self.share_title_raw:
            return self.share_title_raw
        return f"{self.site_name} · {self.tagline}" if self.tagline else self.site_name

    @property
    def primary_accessible(self) -> str:
        """The primary colour, darkened just enough for white text on it (and it on white) to reach
        WCAG AA (4.5:1): buttons, the header name and progress bars use it, whatever an operator picks."""
        return readable_on_white(self.primary_color)

    @property
    def primary_dark(self) -> str:
        """A darker shade of the accessible primary: links and text on tinted backgrounds."""
        return _shade(self.primary_accessible, 0.8)

    @property
    def accent_accessible(self) -> str:
        return readable_on_white(self.accent_color, 5.6)  # also on its pale tint (badges)

    @property
    def primary_rgb(self) -> tuple[int, int, int]:
        return hex_to_rgb(self.primary_color)

    @property
    def initial(self) -> str:
        return (self.short_name or "·")[:1]


def from_address(address: str, info: BrandInfo | None = None) -> str:
    """A sender for mail: `address` as configured when it names itself ("Name <a@b>"), else the
    brand's site name before it, so a renamed site's mail comes from its own name."""
    if "<" in address:
        return address
    name = re.sub(r'[<>",;:@\\]', "", str((info or current()).site_name)).strip()
    return f"{name} <{address}>" if name else address  # Django encodes the name for the header


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    try:
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except (ValueError, IndexError):
        return hex_to_rgb(DEFAULT_PRIMARY)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else float(((v + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(value: str) -> float:
    return 1.05 / (_luminance(hex_to_rgb(value)) + 0.05)


def readable_on_white(value: str, ratio: float = 4.6) -> str:
    colour = value if len(value) == 7 else DEFAULT_PRIMARY
    for _step in range(40):
        if contrast_with_white(colour) >= ratio:
            return colour.lower()
        colour = _shade(colour, 0.93)
    return colour.lower()


def _shade(value: str, factor: float) -> str:
    r, g, b = hex_to_rgb(value)
    return f"#{int(r * factor):02x}{int(g * factor):02x}{int(b * factor):02x}"


def _load() -> BrandInfo:
    from core.models import Brand  # cycle: core.models imports core.brand

    row = Brand.objects.filter(pk=1).first()
    if row is None:
        return BrandInfo()
    info = BrandInfo(
        site_name_raw=row.site_name,
        short_name_raw=row.short_name,
        tagline_raw=row.tagline,
        description_raw=row.description,
        logo_url=row.logo.url if row.logo else "",
        poster_background_url=row.poster_background.url if row.poster_background else "",
        primary_color=row.primary_color,
        accent_color=row.accent_color,
        share_title_raw=row.share_title,
        footer_text=row.footer_text,
        terms_url=row.terms_url,
        privacy_url=row.privacy_url,
        icp_text=row.icp_text,
    )
    # Changes with every save, even two saves in the same millisecond: URLs (`?v=`) and poster caches
    # key on it, so a renamed or recoloured site never gets yesterday's icon, CSS or poster.
    stamp = f"{row.updated_at.timestamp() if row.updated_at else 0}|{sorted(asdict(info).items())}"
    return replace(info, version=hashlib.sha256(stamp.encode()).hexdigest()[:16])


# The form fields an operator edits, and the BrandInfo attribute each one shows through.
EDITABLE = {
    "site_name": "site_name_raw",
    "short_name": "short_name_raw",
    "tagline": "tagline_raw",
    "description": "description_raw",
    "primary_color": "primary_color",
    "accent_color": "accent_color",
    "share_title": "share_title_raw",
    "footer_text": "footer_text",
}


def with_edits(info: BrandInfo, edits: dict[str, str]) -> BrandInfo:
    """`info` as it would be once `edits` (validated form fields, named as in EDITABLE) are saved: what
    the brand admin's live preview draws. Its version is a hash of the edits, so preview posters are
    cached apart from the saved brand's."""
    changed = replace(info, **{EDITABLE[name]: value for name, value in edits.items() if name in EDITABLE})
    stamp = f"preview|{sorted(asdict(changed).items())}"
    return replace(changed, version="p" + hashlib.sha256(stamp.encode()).hexdigest()[:15])


# The last brand this process served: what error pages show when neither the cache nor the database
# answers (a PostgreSQL and Redis outage), so they still carry the creator's name and colours.
_last_seen: BrandInfo | None = None


def current() -> BrandInfo:
    global _last_seen
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        try:
            _last_seen = BrandInfo(**cached)
            return _last_seen
        except TypeError:  # a copy cached by an older release
            pass
    info = _load()
    cache.set(CACHE_KEY, asdict(info), CACHE_SECONDS)
    _last_seen = info
    return info


def client_payload(info: BrandInfo, *, absolute: Callable[[str], str]) -> dict[str, str]:
    """The brand as the mini-program reads it: GET /api/v1/brand/ (core.apis), and the X-Brand header
    core.middleware.BrandVersionMiddleware adds when a client's stored copy is stale. `absolute` turns
    the logo's path into a URL (the request's build_absolute_uri)."""
    logo = info.logo_url
    return {
        "version": info.version,
        "site_name": info.site_name,
        "short_name": info.short_name,
        "tagline": info.tagline,
        "description": info.description,
        "logo_url": absolute(logo) if logo.startswith("/") else logo,
        "primary_color": info.primary_accessible,
        "primary_dark": info.primary_dark,
        "accent_color": info.accent_accessible,
        "share_title": info.share_title,
    }


def cached_version() -> str | None:
    """The version of the cached brand, or None while it is not cached: never a query, so a header that
    names the brand (X-Brand-Version) costs a cache read and leaves the request's SQL alone."""
    cached = cache.get(CACHE_KEY)
    version = cached.get("version") if isinstance(cached, dict) else None
    return str(version) if version is not None else None


def for_error_page() -> BrandInfo:
    """The brand for pages of last resort (500, 503, 400): from the cache, else the last brand this
    process served, else the defaults — never a database query, which may be what just failed."""
    try:
        cached = cache.get(CACHE_KEY)
    except Exception:  # noqa: BLE001 - the cache is down too: fall back, never raise from an error page
        cached = None
    if cached is not None:
        try:
            return BrandInfo(**cached)
        except TypeError:
            pass
    return _last_seen or BrandInfo()


def forget() -> None:
    """Drop the cached brand now and again after the saving transaction commits."""
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
