"""Site-wide middleware: security headers Django does not set itself, and the language policy.

Our pages carry no inline script or style, so the CSP has no 'unsafe-inline'. frame-ancestors
replaces X-Frame-Options for modern browsers; Permissions-Policy switches off sensors we never use.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from urllib.parse import quote

from allauth.core.exceptions import RateLimited
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from core import brand
from core.text import clean_text, has_invisible, is_identifier
from core.views import database_unavailable, is_database_outage, last_resort_page

GetResponse = Callable[[HttpRequest], HttpResponse]


def content_security_policy(media_origins: list[str]) -> str:
    """The site's CSP. `media_origins` (settings.MEDIA_HLS_ORIGINS): where encrypted HLS segments come
    from when a CDN serves them, which hls.js fetches (connect-src). media-src allows blob: because
    hls.js plays through a MediaSource object URL."""
    extra = "".join(f" {origin}" for origin in media_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob: https://thirdwx.qlogo.cn https://wx.qlogo.cn",
            "media-src 'self' https: blob:",
            "font-src 'self' data:",
            f"connect-src 'self'{extra}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self' https://open.weixin.qq.com",
            "object-src 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy(list(getattr(settings, "MEDIA_HLS_ORIGINS", [])))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(
            "Content-Security-Policy", getattr(settings, "CONTENT_SECURITY_POLICY", self.csp)
        )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class BrandVersionMiddleware:
    """/api/v1/ answers say which brand is current (`X-Brand-Version`, one cache read, never SQL; absent
    while the brand is not cached), so the mini-program keeps the brand in storage.

    A client that names the copy it holds (`X-Brand-Known: <version>`, or `none`) and holds another one
    gets the brand itself with the answer, in `X-Brand` (the JSON of GET /api/v1/brand/, percent-encoded:
    headers are Latin-1): the first launch's first call brings the brand, so the home screen needs no
    call of its own for it. Clients that do not ask get the version only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/v1/"):
            return response
        known = request.headers.get("X-Brand-Known")
        try:
            if known is not None:
                info = brand.current()  # a cache read; the one query of a cold cache when a client asks
                response.headers.setdefault("X-Brand-Version", info.version)
                if known != info.version:
                    payload = json.dumps(
                        brand.client_payload(info, absolute=request.build_absolute_uri),
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    response.headers["X-Brand"] = quote(payload, safe="")
                return response
            version = brand.cached_version()
        except Exception:  # noqa: BLE001 - the cache or database is down: the answer goes out without it
            return response
        if version is not None:  # not cached yet: no header rather than a query on every cold start
            response.headers.setdefault("X-Brand-Version", version)
        return response


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Chinese unless the visitor chose English in the language switcher (its cookie).

    Django's LocaleMiddleware would also follow the browser's Accept-Language, so an operator's
    English-language laptop or a test browser would see an English site by accident; this product's
    market is China, so zh-hans is the default and English an explicit choice. API clients (the
    mini-program) still get their Accept-Language, because they send it on purpose.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            return super().process_request(request)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if not language or not translation.check_for_language(language):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class DatabaseOutageMiddleware:
    """A view that cannot reach PostgreSQL answers 503 (page or JSON), never a traceback.

    Exceptions raised outside views (a session saved after the view) reach `handler500`
    (core.views.server_error), which makes the same decision."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_outage(exception):
            logging.getLogger("core.outage").error("database unavailable: %r", exception)
            return database_unavailable(request)
        return None


class RateLimitedMiddleware:
    """allauth raises `RateLimited` from places its views do not catch (sending the phone code during
    sign-up or login: 3 a minute per address): answer 429 with a page or JSON instead of a 500. The
    account stays; its next login after the limit sends the code."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"code": "throttled", "message": _("操作太频繁，请稍后再试"), "fields": {}}, status=429
            )
        else:
            response = HttpResponse(last_resort_page("429.html", brand.current()), status=429)
        response["Retry-After"] = "60"
        return response


_NUMBER_PARAMS = {"page", "page_size", "before", "days"}
_ID_PARAM_NAMES = {"id", "camp", "comment", "question"}
_MAX_NUMBER_DIGITS = 9  # a page or id past 999,999,999 is not a page or an id (and overflowed bigint)


def _bad_query(key: str, value: str) -> bool:
    if has_invisible(key) or has_invisible(value):
        return True  # NUL, control, zero-width or bidi characters in a query string
    if key in _NUMBER_PARAMS and value.isdigit():
        return not value.isascii() or len(value) > _MAX_NUMBER_DIGITS
    if (key in _ID_PARAM_NAMES or key.endswith("_id")) and value:
        return not is_identifier(value) or (value.isdigit() and len(value) > _MAX_NUMBER_DIGITS)
    return False


class RequestGuardMiddleware:
    """Input at the door, for pages and API alike (core/text.py):

    - query strings: NUL, control, zero-width and bidi characters, non-ASCII digits in `page` /
      `page_size`, ids that are not ASCII identifiers, and numbers too long for a page or an id
      answer 400 (`{"code": "invalid", ...}` under /api/) instead of reaching the database;
    - form posts: every field passes `clean_text` (NFC, invisible characters removed) before any view
      or form sees it. JSON and multipart API bodies get the same in core/parsers.py."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if any(_bad_query(key, v) for v in values):
                if request.path.startswith("/api/v1/"):
                    # DRF answers after authentication and permissions (core.throttling.QueryGuard),
                    # so an anonymous caller of a protected operation still learns only "401".
                    request._zhiquan_bad_query = key  # type: ignore[attr-defined]  # read by QueryGuard
                    break
                return self._bad_request(request, key)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            post: QueryDict | None
            try:
                post = request.POST
            except Exception:  # noqa: BLE001 - a malformed body: let the view answer as it would
                post = None
            if post is not None and any(clean_text(v) != v for v in _values(post)):
                cleaned = post.copy()
                for key in list(cleaned.keys()):
                    cleaned.setlist(key, [clean_text(v) for v in post.getlist(key)])
                cleaned._mutable = False
                request.POST = cleaned  # type: ignore[assignment]  # read-only again (_mutable above)
        return self.get_response(request)

    @staticmethod
    def _bad_request(request: HttpRequest, key: str) -> HttpResponse:
        message = _("请求参数无效")
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": "invalid", "message": message, "fields": {key: [message]}}, status=400
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _values(post: QueryDict) -> Iterator[str]:
    for _key, values in post.lists():
        yield from (v for v in values if isinstance(v, str))
