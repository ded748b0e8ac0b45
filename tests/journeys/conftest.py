"""Fixtures of the browser journeys: the live demo site and logging a browser in.

The browser itself (Debian's Chromium, phone and desktop viewports, screenshots on failure) comes
from tests/browser.py, shared by every Playwright test.
"""

from __future__ import annotations

import pytest


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
