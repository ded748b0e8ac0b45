"""Every error page in the site's style and the creator's brand: 400, 403 (and CSRF), 404, 429, 500,
503. The pages of last resort (400, 500, 503) are rendered without a query, so they work while
PostgreSQL is down, from the cached brand or the last one this process served."""

import re
from pathlib import Path

import pytest
from allauth.core.exceptions import RateLimited
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from core import brand, views
from core.middleware import RateLimitedMiddleware
from core.models import Brand
from tests.factories import UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
ERROR_TEMPLATES = ["400.html", "403.html", "403_csrf.html", "404.html", "429.html", "500.html", "503.html"]


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]
handler500 = "core.views.server_error"


@pytest.fixture
def renamed(db):
    Brand(site_name="晨读社", short_name="晨读", tagline="每天一小时", primary_color="#3355cc").save()
    return brand.current()  # served once: cached, and remembered by this process


def _assert_branded(html: str) -> None:
    assert "晨读社" in html and "知圈" not in html
    assert "/brand.css?v=" in html and "css/zhiquan.css" in html  # the site's style and colours
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html  # CSP: no inline code


@pytest.mark.django_db
def test_unknown_api_url_answers_json_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_unknown_page_answers_the_site_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_schema_documents_shared_error_statuses():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    detail = schema["paths"]["/api/v1/orders/{order_no}/"]["get"]["responses"]
    assert {"401", "404", "429"} <= set(detail)
    assert detail["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_no_error_page_names_the_platform():
    for name in ERROR_TEMPLATES:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert "知圈" not in text, name
        assert "brand" in text or 'extends "base.html"' in text or 'extends "_error_page.html"' in text, name


def test_404_is_a_page_of_the_site_in_its_brand(client, renamed):
    html = client.get("/no-such-page/").content.decode()
    _assert_branded(html)
    assert 'data-error-page="404"' in html


@pytest.mark.urls(__name__)
def test_a_crash_answers_a_branded_500_page(renamed):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    _assert_branded(html)
    assert "服务器开小差了" in html and 'data-error-page="500"' in html


def test_500_and_503_need_no_database_and_fall_back_to_the_last_brand_seen(
    rf, renamed, django_assert_num_queries
):
    cache.clear()  # Redis gone too: the process still remembers the brand it served
    request = rf.get("/courses/")
    with django_assert_num_queries(0):
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            unavailable = views.server_error(request)
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            crashed = views.server_error(request)
    assert unavailable.status_code == 503 and unavailable["Retry-After"] == "30"
    assert "服务暂时不可用" in unavailable.content.decode()
    _assert_branded(unavailable.content.decode())
    assert crashed.status_code == 500
    _assert_branded(crashed.content.decode())


def test_without_any_brand_known_the_last_resort_pages_use_the_defaults(rf, monkeypatch, db):
    cache.clear()
    monkeypatch.setattr(brand, "_last_seen", None)
    html = views.last_resort_page("503.html")
    assert "知圈" in html and "服务暂时不可用" in html  # the platform's default name, nothing broken


def test_the_brand_stylesheet_and_icon_still_answer_while_the_database_is_down(client, renamed, monkeypatch):
    def down():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(brand, "current", down)
    css = client.get(f"/brand.css?v={renamed.version}")
    assert css.status_code == 200 and "--brand: #3355cc" in css.content.decode()
    assert css["Cache-Control"] == "no-cache"  # not pinned for a year while degraded
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/png"


def test_429_is_branded(rf, renamed):
    request = rf.get("/accounts/login/")
    response = RateLimitedMiddleware(lambda r: HttpResponse()).process_exception(request, RateLimited())
    assert response.status_code == 429 and response["Retry-After"] == "60"
    html = response.content.decode()
    _assert_branded(html)
    assert "操作太频繁" in html


def test_400_is_branded_and_the_api_keeps_its_error_shape(rf, renamed):
    html = views.bad_request(rf.get("/courses/")).content.decode()
    _assert_branded(html)
    assert "请求有误" in html
    api = views.bad_request(rf.get("/api/v1/courses/"))
    assert api.status_code == 400 and api["Content-Type"].startswith("application/json")


def test_a_forbidden_page_and_a_stale_form_are_branded(renamed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    stale = client.post("/account/logout-everywhere/")
    assert stale.status_code == 403
    html = stale.content.decode()
    _assert_branded(html)
    assert "页面已过期" in html
    member = Client()
    member.force_login(UserFactory())
    forbidden = member.get("/ops/")
    assert forbidden.status_code == 403
    _assert_branded(forbidden.content.decode())
