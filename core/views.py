"""Health check for load balancers and operators."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported not raised
        return f"error: {exc.__class__.__name__}"


def _broker_status() -> str:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def _worker_status() -> str:
    from config.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    # The filesystem broker (the embedded default) polls its folders, so replies take longer there.
    timeout = 0.5 if settings.REDIS_URL else 2.0
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"unknown: {exc.__class__.__name__}"
    return f"ok ({len(replies)})" if replies else "no workers"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database_status()
    body = {
        "database": database,
        "database_engine": connection.vendor,
        "broker": _broker_status(),
        "broker_transport": "redis" if settings.REDIS_URL else "filesystem",
        "worker": _worker_status(),
    }
    body["status"] = "ok" if database == "ok" else "error"
    return JsonResponse(body, status=200 if database == "ok" else 503)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/payments/wechatpay/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for any URL no view matched: the API's error shape under /api/, a page elsewhere."""
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    if _wants_json(request):
        return JsonResponse({"code": "not_found", "message": _("未找到"), "fields": {}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    if _wants_json(request):
        return JsonResponse(
            {"code": "server_error", "message": _("服务器开小差了，请稍后再试"), "fields": {}}, status=500
        )
    return render(request, "500.html", status=500)
