"""GET /api/v1/brand/: the creator's brand for the mini-program — public, follows a rename at once,
answered from the cache (no SQL once warm), cacheable by ETag; every API answer names the brand version."""

import json
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import brand
from core.models import Brand
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _rename(**fields):
    row = Brand.objects.filter(pk=1).first() or Brand(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def test_anonymous_get_the_default_brand_without_a_token():
    response = APIClient().get("/api/v1/brand/")
    assert response.status_code == 200
    body = response.json()
    assert body["site_name"] == "知圈" and body["short_name"] == "知圈"
    assert body["share_title"] == "知圈 · 知识付费会员社群"
    assert body["logo_url"] == ""
    # The accessible shade, not the raw default green (white text on it must reach 4.5:1).
    assert body["primary_color"] == brand.BrandInfo().primary_accessible != brand.DEFAULT_PRIMARY
    assert brand.contrast_with_white(body["primary_color"]) >= 4.5
    assert brand.contrast_with_white(body["accent_color"]) >= 4.5
    assert response["ETag"] and "max-age=300" in response["Cache-Control"]


def test_a_bad_token_does_not_stop_a_public_read():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/v1/brand/").status_code == 200


def test_a_rename_shows_at_once_with_a_new_version_and_etag():
    client = APIClient()
    before = client.get("/api/v1/brand/")
    _rename(
        site_name="晨读社",
        short_name="晨读",
        tagline="每天一小时",
        share_title="晨读社 · 和我一起读书",
        primary_color="#33cc55",
        accent_color="#ff6600",
    )
    after = client.get("/api/v1/brand/")
    body = after.json()
    assert (body["site_name"], body["short_name"], body["tagline"]) == ("晨读社", "晨读", "每天一小时")
    assert body["share_title"] == "晨读社 · 和我一起读书"
    assert body["primary_color"] == brand.readable_on_white("#33cc55")
    assert body["version"] != before.json()["version"]
    assert after["ETag"] != before["ETag"]
    assert after["X-Brand-Version"] == body["version"]


def test_an_unchanged_brand_answers_304_to_its_etag():
    client = APIClient()
    first = client.get("/api/v1/brand/")
    again = client.get("/api/v1/brand/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    _rename(site_name="晨读社")
    assert client.get("/api/v1/brand/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_english_answers_translate_the_defaults_only():
    client = APIClient()
    english = client.get("/api/v1/brand/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["site_name"] != "知圈"
    assert english["ETag"] != client.get("/api/v1/brand/")["ETag"]  # one ETag per language
    _rename(site_name="晨读社")
    assert client.get("/api/v1/brand/", HTTP_ACCEPT_LANGUAGE="en").json()["site_name"] == "晨读社"


def test_no_sql_once_warm():
    _rename(site_name="晨读社")
    client = APIClient()
    client.get("/api/v1/brand/")  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/brand/").status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_every_api_answer_carries_the_brand_version_pages_do_not():
    _rename(site_name="晨读社")
    version = brand.current().version
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/v1/me/")["X-Brand-Version"] == version
    assert client.get("/api/v1/membership/tiers/")["X-Brand-Version"] == version
    assert "X-Brand-Version" not in client.get("/healthz")
    _rename(site_name="晚读社")  # forgets the cached copy: the next answer carries the new version
    assert client.get("/api/v1/brand/").json()["site_name"] == "晚读社"
    assert client.get("/api/v1/me/")["X-Brand-Version"] == brand.current().version != version


def test_the_version_header_never_costs_a_query():
    """Cold cache: no header rather than loading the brand in every API request's SQL."""
    client = APIClient()
    client.force_authenticate(UserFactory())
    brand.forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me/")
    assert "X-Brand-Version" not in response
    assert not any("core_brand" in q["sql"] for q in queries)


def _brand_header(response) -> dict | None:
    raw = response.headers.get("X-Brand")
    return json.loads(unquote(raw)) if raw is not None else None


def test_a_client_with_a_stale_copy_gets_the_brand_with_its_first_answer():
    """The first launch's first call (the login) brings the brand along, so the home screen needs no call
    of its own for it; a client holding the current copy gets only the version."""
    _rename(site_name="晨读社", tagline="每天一小时")
    client = APIClient()
    first = client.post(
        "/api/v1/auth/wechat/miniprogram/", {"code": "x"}, format="json", HTTP_X_BRAND_KNOWN="none"
    )
    carried = _brand_header(first)
    assert carried == client.get("/api/v1/brand/").json()  # the same fields as GET /api/v1/brand/
    assert carried["site_name"] == "晨读社" and first["X-Brand-Version"] == carried["version"]
    client.force_authenticate(UserFactory())
    assert _brand_header(client.get("/api/v1/me/", HTTP_X_BRAND_KNOWN=carried["version"])) is None
    _rename(site_name="晚读社")
    renamed = _brand_header(client.get("/api/v1/me/", HTTP_X_BRAND_KNOWN=carried["version"]))
    assert renamed["site_name"] == "晚读社" and renamed["version"] != carried["version"]
    assert _brand_header(client.get("/api/v1/me/")) is None  # a client that does not ask is not sent it


def test_the_endpoint_is_in_the_schema():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    props = schema["components"]["schemas"]["BrandOutput"]["properties"]
    assert {
        "site_name",
        "short_name",
        "tagline",
        "logo_url",
        "primary_color",
        "accent_color",
        "share_title",
    } <= set(props)
    assert "get" in schema["paths"]["/api/v1/brand/"]
