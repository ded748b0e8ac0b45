"""Health check for load balancers and operators, the pages of last resort (400, 404, 500, 503) and the
brand's stylesheet and site icon (which those pages need even while the database is down)."""

import io
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw

from config.celery import app
from core import brand
from core.cache import cache_available
from core.posters import brand_image, cjk_font


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported not raised
        return f"error: {exc.__class__.__name__}"


def _broker_status() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def _worker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    # The filesystem broker (the embedded default) polls its folders, so replies take longer there.
    timeout = 0.5 if settings.REDIS_URL else 2.0
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"unknown: {exc.__class__.__name__}"
    return f"ok ({len(replies)})" if replies else "no workers"


def _cache_status() -> str:
    try:
        cache.get("healthz:probe")
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok" if cache_available() else "error: unavailable"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """`ok`; `degraded` (200) when Redis — broker or cache — is down, since the site keeps selling on
    PostgreSQL alone; `error` (503) without the database. The components and the engine are shown
    only where HEALTHZ_DETAILS is on (not in production: they tell an attacker what runs here)."""
    database = _database_status()
    body = {
        "database": database,
        "database_engine": connection.vendor,
        "cache": _cache_status(),
        "broker": _broker_status(),
        "broker_transport": "redis" if settings.REDIS_URL else "filesystem",
        "worker": _worker_status(),
    }
    if database != "ok":
        status = "error"
    elif body["broker"] != "ok" or body["cache"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    answer = {"status": status, **body} if settings.HEALTHZ_DETAILS else {"status": status}
    return JsonResponse(answer, status=503 if status == "error" else 200)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/payments/wechatpay/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for any URL no view matched: the API's error shape under /api/, a page elsewhere."""
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "message": _("未找到"), "fields": {}}, status=404)
    return render(request, "404.html", status=404)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 when PostgreSQL is unreachable: a plain page or the API's error shape, never a traceback.

    Rendered without touching the database (no session, no user, no context processors that query)."""
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(
            {"code": "service_unavailable", "message": _("服务暂时不可用，请稍后再试"), "fields": {}},
            status=503,
        )
    else:
        response = HttpResponse(last_resort_page("503.html"), status=503)
    response["Retry-After"] = "30"
    return response


def last_resort_page(template: str, info: brand.BrandInfo | None = None) -> str:
    """An error page in the creator's brand without a query: no request context (no session, user or
    context processor), the brand from `core.brand.for_error_page` unless the caller has it. The
    stylesheet's URL is resolved here so a missing static manifest cannot break the page."""
    try:
        stylesheet = static("css/zhiquan.css")
    except ValueError:  # ManifestStaticFilesStorage before collectstatic
        stylesheet = f"{settings.STATIC_URL}css/zhiquan.css"
    return render_to_string(template, {"brand": info or brand.for_error_page(), "stylesheet": stylesheet})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 (a suspicious request, a bad host): the API's error shape under /api/, a branded page elsewhere."""
    if _wants_json(request):
        return JsonResponse({"code": "bad_request", "message": _("请求有误"), "fields": {}}, status=400)
    return HttpResponse(last_resort_page("400.html"), status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError) and is_database_outage(exc):
        return database_unavailable(request)
    if _wants_json(request):
        return JsonResponse(
            {"code": "server_error", "message": _("服务器开小差了，请稍后再试"), "fields": {}}, status=500
        )
    return HttpResponse(last_resort_page("500.html"), status=500)


def is_database_outage(exc: BaseException) -> bool:
    """True for "cannot reach PostgreSQL" (connection refused, server gone), not for a query's own
    error (a constraint, a bad value), which stays a 500 and a bug to fix."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc).lower()
    return any(
        marker in text
        for marker in (
            "connection",
            "could not connect",
            "server closed",
            "terminating",
            "shutting down",
            "starting up",
            "no such host",
            "timeout expired",
        )
    )


# ---- the creator's brand: colours as CSS custom properties, and the site icon ------------------------------


@require_GET
def brand_css(request: HttpRequest) -> HttpResponse:
    """The brand's colours as CSS custom properties (a file, so the CSP needs no inline style).

    Pages link it as `/brand.css?v=<version>`: the version changes with every save, so it may be cached.
    While the database is down (the 503 page links it too) the last known brand is served, uncached.
    """
    try:
        info, lasting = brand.current(), True
    except DatabaseError:
        info, lasting = brand.for_error_page(), False
    body = (
        ":root { "
        f"--brand: {info.primary_accessible}; --brand-dark: {info.primary_dark}; "
        f"--accent: {info.accent_accessible}; --danger: {info.accent_accessible}; "
        "}\n"
    )
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    immutable = lasting and request.GET.get("v")
    response["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The site icon: the brand's logo, or its initial on its primary colour (no more 404s); during a
    database outage the last known brand's initial."""
    try:
        info = brand.current()
    except DatabaseError:
        response = HttpResponse(
            brand_icon_png(brand.for_error_page(), with_logo=False), content_type="image/png"
        )
        response["Cache-Control"] = "no-cache"
        return response
    key = f"core:favicon:{info.version}:{info.logo_url}:{info.primary_color}:{info.initial}"
    png = cache.get(key)
    if png is None:
        png = brand_icon_png(info)
        cache.set(key, png, 24 * 3600)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def brand_icon_png(info: brand.BrandInfo, size: int = 64, *, with_logo: bool = True) -> bytes:
    image = brand_image("logo") if with_logo and info.logo_url else None
    if image is not None:
        image.thumbnail((size, size))
    else:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 5, fill=info.primary_rgb)
        draw.text(
            (size // 2, size // 2), info.initial, font=cjk_font(int(size * 0.6)), fill="white", anchor="mm"
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
