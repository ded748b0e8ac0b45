"""Browser journeys: Playwright drives Debian's Chromium against `live_server`.

Each journey runs on a phone-sized and a desktop viewport (the `viewport` fixture parametrizes the
page) and saves a full-page screenshot under var/journeys/ when it fails. The browser is never
downloaded: `/usr/bin/chromium` is what `scripts/bootstrap.sh --system` installs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the journeys make between
# clicks are ordinary synchronous code, so Django's async-safety guard must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "journeys"
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 860}},
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "journeys" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (scripts/bootstrap.sh --system installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, viewport):
    return {**browser_context_args, **VIEWPORTS[viewport], "locale": "zh-CN"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = item.nodeid.replace("/", "_").replace("::", "-").replace("[", "-").rstrip("]")
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
                pass


@pytest.fixture
def site(live_server, settings, tmp_path_factory):
    """The live server, configured like `make demo` (sandbox payments) and seeded with demo data."""
    import io

    from django.core.management import call_command

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.SITE_URL = live_server.url
    settings.WECHATPAY_NOTIFY_URL = f"{live_server.url}/payments/wechatpay/notify/"
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


@pytest.fixture
def login_as(site):
    """Log a browser context in as `user` by handing it a real session cookie (no password typing)."""

    def login(context, user) -> None:
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": site.url}])

    return login
