"""The deployment files users run (`docker compose up`) stay valid even though CI has no Docker engine."""

import http.server
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from tests.processes import PROD_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_runs_the_whole_stack_with_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn config.wsgi" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert "DatabaseScheduler" in services["beat"]["command"]
    for name in ("web", "worker", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    # The worker's probe asks its own node (celery@<container hostname>), not whichever worker answers.
    assert "--destination celery@$$HOSTNAME" in services["worker"]["healthcheck"]["test"][1]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_file_is_accepted_by_compose(tmp_path):
    """`docker-compose config` validates against the Compose specification without an engine."""
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("docker-compose is missing (scripts/bootstrap.sh --system installs it)")
        pytest.skip("docker-compose not installed (scripts/bootstrap.sh --system installs it)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        [binary, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def _dockerfile_run(marker: str) -> str:
    """The Dockerfile's RUN instruction that contains `marker`, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runs = [line[4:] for line in text.splitlines() if line.startswith("RUN ") and marker in line]
    assert len(runs) == 1, runs
    return runs[0]


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}


def test_the_image_collects_static_files_under_production_settings(tmp_path):
    """Production serves hashed names from a manifest: the image must build it, and every page's assets resolve.

    Runs the Dockerfile's own collectstatic step (its environment, its command) into a temporary folder,
    then asks production's storage for every file a template names with {% static %}.
    """
    words = shlex.split(_dockerfile_run("collectstatic"))
    split = words.index("python")
    build_env = dict(word.split("=", 1) for word in words[:split])
    assert build_env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    static_root = tmp_path / "static"
    env = {**_clean_environ(), **build_env, "STATIC_ROOT": str(static_root)}
    result = subprocess.run(
        [sys.executable, *words[split + 1 :]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert (static_root / "staticfiles.json").exists()

    named = set()
    for template in (ROOT / "templates").rglob("*.html"):
        named |= set(re.findall(r"""{%\s*static\s+["']([^"']+)["']""", template.read_text()))
    assert len(named) > 5, named
    check = (
        "import sys, django; django.setup()\n"
        "from django.contrib.staticfiles.storage import staticfiles_storage as s\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, s.url(name))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check, *sorted(named)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    # Hashed names (css/zhiquan.0123456789ab.css) prove the manifest answered, not the plain fallback.
    for line in result.stdout.splitlines():
        name, url = line.split()
        stem, dot, ext = name.rpartition(".")
        assert re.fullmatch(rf"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{re.escape(ext)}", url), line


def test_the_web_healthcheck_presents_an_allowed_host_over_forwarded_https():
    """The probe must pass production's host check and must not be redirected to https (both read as down)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    probe = compose["services"]["web"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            seen.update(path=self.path, host=self.headers["Host"], proto=self.headers["X-Forwarded-Proto"])
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        code = probe[3].replace("127.0.0.1:8000", f"127.0.0.1:{server.server_port}")
        env = {**_clean_environ(), "ALLOWED_HOSTS": ".zhiquan.example.com,other.example.com"}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, check=False
        )
    finally:
        thread.join(timeout=5)
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert seen == {"path": "/healthz", "host": "zhiquan.example.com", "proto": "https"}

    # What production answers to exactly that probe, and to a plain-HTTP load-balancer probe.
    ask = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/healthz', HTTP_HOST='zhiquan.example.com', HTTP_X_FORWARDED_PROTO='https').status_code)\n"
        "print(c.get('/healthz', HTTP_HOST='zhiquan.example.com').status_code)\n"
        "print(c.get('/', HTTP_HOST='zhiquan.example.com').status_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", ask],
        cwd=ROOT,
        env={**_clean_environ(), **PROD_ENV, "ALLOWED_HOSTS": ".zhiquan.example.com"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    forwarded, plain, page = (int(x) for x in result.stdout.split())
    # 200, or 503 when the check's database is absent: an answer from the view, not a redirect or a 400.
    assert forwarded in (200, 503) and plain in (200, 503), result.stdout
    assert page == 301  # every other plain-HTTP request still goes to https
