"""The dashboard in Debian's Chromium (Playwright): every chart draws from its json_script data under our
strict CSP (no inline script), nothing fails to load, and the phone layout does not scroll sideways."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.insights.builders import dashboard_activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_chart_draws_under_the_csp_and_the_phone_layout_fits(live_server, page, staff, viewport):
    dashboard_activity(4)
    client = Client()
    client.force_login(staff["operator"])
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    problems: list[str] = []
    # CSP refusals and script errors are console errors; failed loads are checked as responses.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None
        ),
    )

    page.goto(f"{live_server.url}/ops/?range=30d")
    page.wait_for_selector("html[data-charts-ready]")

    total = page.locator("canvas[data-chart]").count()
    assert total >= 15
    assert page.locator("canvas[data-drawn]").count() == total
    assert [p for p in problems if "favicon" not in p] == []
    # The KPI card and the table under the revenue chart show the same GMV.
    gmv = page.locator("#kpi-gmv .kpi-value").inner_text()
    assert gmv == "¥796"
    assert page.locator("#t-revenue_by_item_type table").inner_text().count("¥796") >= 1
    if viewport == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
