"""Screenshots of the operators' dashboard (docs/dashboard-desktop.png, docs/dashboard-phone.png).

    .venv/bin/python manage.py runserver 127.0.0.1:8000 &          # on `seed_demo --history` data
    .venv/bin/python manage.py dashboard_screenshots --url http://127.0.0.1:8000

Drives Debian's Chromium (/usr/bin/chromium) with Playwright (a development dependency): logs in
through the admin login form, opens /ops/, waits until every chart is drawn, saves full-page PNGs.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sampledata.demo.members import DEMO_PASSWORD

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


class Command(BaseCommand):
    help = "Save full-page screenshots of /ops/ on a desktop and a phone viewport (Playwright + Chromium)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--username", default="ops")
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--path", default="/ops/?range=90d")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs"))
        parser.add_argument("--chromium", default="/usr/bin/chromium")

    def handle(self, *args, **options):
        try:  # heavy and optional (a development dependency): imported only when this command runs
            from playwright.sync_api import sync_playwright
        except ImportError as exc:  # pragma: no cover - a development dependency
            raise CommandError(
                "Playwright is not installed (the dev group of pyproject.toml: scripts/bootstrap.sh)"
            ) from exc
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        base = options["url"].rstrip("/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=options["chromium"], args=LAUNCH_ARGS)
            try:
                for name, context_args in VIEWPORTS.items():
                    context = browser.new_context(locale="zh-CN", **context_args)
                    page = context.new_page()
                    errors: list[str] = []
                    # CSP refusals and script errors show up as console errors; failed loads as responses.
                    page.on("console", lambda msg, errors=errors: _console(msg, errors))
                    page.on("response", lambda r, errors=errors: _response(r, errors))
                    page.goto(f"{base}/admin/login/?next=/ops/")
                    page.fill("input[name=username]", options["username"])
                    page.fill("input[name=password]", options["password"])
                    page.click("input[type=submit], button[type=submit]")
                    page.goto(base + options["path"])
                    page.wait_for_selector("html[data-charts-ready]")
                    drawn = page.locator("canvas[data-drawn]").count()
                    total = page.locator("canvas[data-chart]").count()
                    if drawn != total or errors:
                        raise CommandError(f"{name}: {drawn}/{total} charts drawn; console errors: {errors}")
                    target = out / f"dashboard-{name}.png"
                    # The phone page is long (every table stacks): keep its first screens.
                    clip = {"x": 0, "y": 0, "width": 390, "height": 3400} if name == "phone" else None
                    page.screenshot(path=str(target), full_page=True, clip=clip)
                    self.stdout.write(f"{target} ({total} charts)")
                    context.close()
            finally:
                browser.close()


def _console(message, errors: list[str]) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


def _response(response, errors: list[str]) -> None:
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        errors.append(f"{response.status} {response.url}")
