"""Every settings module imports; production refuses to start without secrets and is deploy-clean."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import PROD_ENV, run_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module",
    [
        "config.settings.dev",
        "config.settings.demo",
        "config.settings.test",
        "config.settings.base",
        "config.settings.lighthouse",
    ],
)
def test_settings_module_imports(module):
    result = run_python(
        ["-c", "import django; django.setup(); from django.conf import settings; print(settings.TIME_ZONE)"],
        {"DJANGO_SETTINGS_MODULE": module},
    )
    assert result.returncode == 0, result.stderr
    assert "Asia/Shanghai" in result.stdout


def test_make_demo_shows_the_branded_error_pages():
    """`make demo` runs with DEBUG off (a wrong address meets the site's 404, not Django's debug page),
    still serving static files and uploads itself."""
    assert "DJANGO_SETTINGS_MODULE=config.settings.demo" in (ROOT / "scripts" / "demo.sh").read_text()
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.WHITENOISE_USE_FINDERS, settings.SERVE_MEDIA_FROM_DJANGO, "
        "settings.PAYMENTS_SANDBOX_ENABLED)"
    )
    result = run_python(["-c", probe], {"DJANGO_SETTINGS_MODULE": "config.settings.demo"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True"]


def test_production_settings_refuse_to_start_without_secrets():
    env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"}
    result = run_python(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


REQUIRED = sorted(set(PROD_ENV) - {"DJANGO_SETTINGS_MODULE"})

# Reads production's settings once per case inside one fresh process: each case restores the
# environment and forgets the settings modules, so every import is as a new process would do it
# (thirty interpreters starting Django cost half a minute of the suite).
_EACH_MISSING = """
import importlib, json, os, sys
base = dict(os.environ)
results = {}
for name, case, env in json.loads(sys.stdin.read()):
    os.environ.clear()
    os.environ.update(base)
    for key in [k for k in os.environ if k in env or k == name]:
        del os.environ[key]
    os.environ.update(env)
    for module in [m for m in sys.modules if m == "config.settings" or m.startswith("config.settings.")]:
        del sys.modules[module]
    try:
        importlib.import_module("config.settings.prod")
        results[name + ":" + case] = None
    except Exception as exc:  # what the operator reads: the error's last line
        results[name + ":" + case] = f"{type(exc).__name__}: {exc}".splitlines()[-1]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def each_missing_variable():
    cases = []
    for name in REQUIRED:
        cases.append([name, "absent", {k: v for k, v in PROD_ENV.items() if k != name}])
        cases.append([name, "empty", {**PROD_ENV, name: ""}])
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    clean = {k: v for k, v in clean.items() if k not in PROD_ENV}
    result = subprocess.run(
        [sys.executable, "-c", _EACH_MISSING],
        cwd=ROOT,
        env=clean,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", REQUIRED)
def test_production_names_each_missing_variable(name, each_missing_variable):
    """Each variable production needs stops it when absent or empty, and the error names it."""
    for case in ("absent", "empty"):
        error = each_missing_variable[f"{name}:{case}"]
        assert error is not None, f"production started without {name} ({case})"
        assert name in error, error


def test_a_missing_variable_stops_django_itself_not_only_the_settings_module():
    """The in-process reading above imports the settings module; this is the real start-up once."""
    env = {k: v for k, v in PROD_ENV.items() if k != "WECHATPAY_MCHID"}
    result = run_python(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "WECHATPAY_MCHID" in result.stderr.splitlines()[-1], result.stderr[-500:]
    assert run_python(["-c", "import django; django.setup()"], PROD_ENV).returncode == 0


def test_production_refuses_a_site_url_without_https():
    result = run_python(
        ["-c", "import django; django.setup()"], {**PROD_ENV, "SITE_URL": "http://zhiquan.example.com"}
    )
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr.splitlines()[-1]


def test_production_settings_pass_check_deploy_with_zero_warnings():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_language_and_timezone_defaults(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_production_mail_goes_to_the_smtp_server_the_environment_names():
    """Operations reports are e-mailed in production: the SMTP server, login and TLS come from the env."""
    env = {
        **PROD_ENV,
        "EMAIL_HOST": "smtp.zhiquan.example.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "reports@zhiquan.example.com",
        "EMAIL_HOST_PASSWORD": "mail-password",
        "EMAIL_USE_TLS": "true",
    }
    code = (
        "import django; django.setup()\n"
        "from django.core.mail import get_connection\n"
        "c = get_connection()\n"
        "print(type(c).__module__, c.host, c.port, c.username, c.password, c.use_tls, c.use_ssl, c.timeout)\n"
    )
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp",
        "smtp.zhiquan.example.com",
        "587",
        "reports@zhiquan.example.com",
        "mail-password",
        "True",
        "False",
        "30",  # never wait forever on a silent server
    ]
