"""Faults survived: PostgreSQL stops and members get a clean 503 page or JSON, never a traceback.

A throwaway cluster (`initdb` + `pg_ctl` on a free port, tests/quality/outage_services.py) stands in
for the database while the test points Django's connection at it, then stops it. A module of its own:
the shared `world` fixture of other modules holds an outer transaction, and a connection closed inside
one cannot be re-pointed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import Client

from tests.quality.outage_services import ThrowawayPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # an outage drill: the full gate only


@pytest.fixture
def throwaway_postgres():
    # Not pytest's tmp_path: as root that folder is closed to the postgres user initdb runs as.
    folder = Path(tempfile.mkdtemp(prefix="zhiquan-pg-"))
    cluster = ThrowawayPostgres(folder / "pg")
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_outage_answers_a_clean_503_page_and_json(throwaway_postgres, django_db_blocker):
    from django.db import connections

    connection = connections["default"]
    saved = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(
            NAME="postgres", USER="postgres", PASSWORD="", HOST="127.0.0.1", PORT=str(throwaway_postgres.port)
        )
        try:
            client = Client(raise_request_exception=False)
            up = client.get("/healthz")
            assert up.status_code == 200, up.json()

            # when PostgreSQL stops
            throwaway_postgres.stop()

            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "error"

            api = client.get("/api/v1/membership/tiers/")
            assert api.status_code == 503 and api["Content-Type"] == "application/json"
            assert api.json()["code"] == "service_unavailable" and set(api.json()) == {
                "code",
                "message",
                "fields",
            }

            for path in ("/", "/accounts/login/", "/courses/"):
                page = client.get(path)
                text = page.content.decode()
                assert page.status_code == 503, path
                assert "服务暂时不可用" in text and "Traceback" not in text and "psycopg" not in text

            login = client.post(
                "/api/v1/auth/wechat/miniprogram/", {"code": "x"}, content_type="application/json"
            )
            # (WeChat is a closed port here, so the login may fail on that first: either way no 500)
            assert login.status_code in (400, 503) and set(login.json()) == {"code", "message", "fields"}

            notify = client.post("/payments/wechatpay/notify/", b"{}", content_type="application/json")
            assert notify.status_code == 503  # WeChat retries the notification later: nothing lost
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
