import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert {"broker", "worker", "database_engine"} <= body.keys()


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from core import views

    monkeypatch.setattr(views, "_database_status", lambda: "error: OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_seed_demo_runs_twice_and_home_lists_tiers(client):
    call_command("seed_demo")
    call_command("seed_demo")
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "¥3,600" in page and "¥120,000" in page
    assert "VIP" in page and "KA" in page


@pytest.mark.django_db
def test_seeding_periodic_tasks_never_overwrites_an_operator_edit():
    from django_celery_beat.models import PeriodicTask

    call_command("seed_periodic_tasks")
    task = PeriodicTask.objects.order_by("id").first()
    if task is None:
        pytest.fail("no default periodic tasks were seeded")
    task.enabled = False
    task.description = "operator edit"
    task.save()
    call_command("seed_periodic_tasks")
    task.refresh_from_db()
    assert task.enabled is False and task.description == "operator edit"


def test_pages_carry_security_headers(client, db):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
