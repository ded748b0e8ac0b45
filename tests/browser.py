"""Browser fixtures shared by every Playwright test (loaded as a plugin by tests/conftest.py).

Playwright drives Debian's Chromium (`/usr/bin/chromium`, installed by `scripts/bootstrap.sh
--system`); it never downloads a browser. Each browser test runs on a phone-sized and a desktop
viewport (the `viewport` fixture parametrizes the page) and saves a full-page screenshot under
var/journeys/ when it fails.

Accessibility is measured, not guessed: axe-core (vendored, `tests/vendor/axe.min.js`, MPL-2.0, from
the npm package `axe-core`) runs on every member-facing page a browser test visited, as it stands at
the end of the test, and the test fails on any violation (`_axe_every_visited_page`). Django admin
and the /ops/ dashboard are outside that net (their markup is Django's and Chart.js's).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls a browser test makes
# between clicks are ordinary synchronous code, so Django's async-safety guard must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "journeys"
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 860}},
}
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (scripts/bootstrap.sh --system installs it)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, viewport):
    return {**browser_context_args, **VIEWPORTS[viewport], "locale": "zh-CN"}


AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SKIP_PREFIXES = ("/admin/", "/ops/", "/api/", "/payments/sandbox/", "/r/")
AXE_MAX_PAGES = 15
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (evaluated through DevTools, so the CSP allows it)."""
    page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return page.evaluate(_AXE_RUN)


@pytest.fixture(autouse=True)
def _axe_every_visited_page(request):
    """Record every same-site page a browser test opens; afterwards open each again and run axe."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    visited: list[str] = []

    def remember(response):
        if response.request.resource_type != "document" or response.status != 200:
            return
        if "text/html" not in (response.headers.get("content-type") or ""):
            return
        from urllib.parse import urlsplit

        path = urlsplit(response.url).path
        if path.startswith(AXE_SKIP_PREFIXES) or response.url in visited:
            return
        visited.append(response.url)

    page.on("response", remember)
    yield
    page.remove_listener("response", remember)
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.passed:
        return
    problems = []
    for url in visited[:AXE_MAX_PAGES]:
        response = page.goto(url)
        if response is None or response.status != 200:
            continue
        for violation in axe_violations(page):
            problems.append(
                f"{url}: {violation['id']} ({violation['impact']}) {violation['help']} — {violation['nodes']}"
            )
    assert not problems, "axe-core found accessibility violations:\n" + "\n".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # read by _axe_every_visited_page at teardown
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = item.nodeid.replace("/", "_").replace("::", "-").replace("[", "-").rstrip("]")
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
                pass
