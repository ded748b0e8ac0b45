"""Phone screenshots of the member pages (docs/screens/*.png) against a running demo.

    .venv/bin/python manage.py runserver 127.0.0.1:8000 &          # on `seed_demo --history` data
    .venv/bin/python manage.py page_screenshots --url http://127.0.0.1:8000

Drives Debian's Chromium with Playwright at 390×844: the home as a visitor, then signs in as the demo
member and saves the home, tiers, a course, a lesson, a circle feed, a camp term and 我的 (the first
screen and a half of each, so every PNG stays small). The member is the `vip` persona of `seed_demo`.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from circles.models import Circle
from courses.models import Course, Lesson, Term
from sampledata.demo.members import DEMO_PASSWORD

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
}


def member_pages() -> list[tuple[str, str]]:
    """(name, path) of the key pages a member sees, from the demo data: the screenshots and Lighthouse."""
    course = Course.objects.filter(is_published=True).order_by("sort_order", "id").first()
    lesson = (
        Lesson.objects.filter(course=course, is_published=True).order_by("position").first()
        if course
        else None
    )
    circle = Circle.objects.filter(is_published=True).order_by("id").first()
    term = Term.objects.filter(is_published=True).order_by("-start_date").first()
    pages = [("home-member", "/"), ("tiers", "/membership/")]
    if course:
        pages.append(("course", f"/courses/{course.pk}/"))
    if lesson:
        pages.append(("lesson", f"/courses/lessons/{lesson.pk}/"))
    if circle:
        pages.append(("circle", f"/circles/{circle.pk}/"))
    if term:
        pages.append(("camp-term", f"/courses/camps/terms/{term.pk}/"))
    pages.append(("account", "/account/"))
    return pages


class Command(BaseCommand):
    help = "Save phone screenshots of the eight key member pages into docs/screens/ (Playwright + Chromium)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--username", default="vip")
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "screens"))
        parser.add_argument("--chromium", default="/usr/bin/chromium")
        parser.add_argument("--height", type=int, default=1300, help="pixels of each page kept")

    def handle(self, *args, **options):
        try:  # heavy and optional (a development dependency): imported only when this command runs
            from playwright.sync_api import sync_playwright
        except ImportError as exc:  # pragma: no cover - a development dependency
            raise CommandError("Playwright is not installed (requirements/dev.txt)") from exc
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        base = options["url"].rstrip("/")
        clip = {"x": 0, "y": 0, "width": 390, "height": options["height"]}
        pages = member_pages()  # read before Playwright's event loop starts (the ORM refuses async contexts)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=options["chromium"], args=LAUNCH_ARGS)
            try:
                context = browser.new_context(locale="zh-CN", **PHONE)
                page = context.new_page()
                self._save(page, base + "/", out / "home-visitor.png", clip)
                page.goto(f"{base}/accounts/login/")
                page.fill("input[name=login]", options["username"])
                page.fill("input[name=password]", options["password"])
                page.click("form button[type=submit]")
                page.wait_for_load_state()
                for name, path in pages:
                    self._save(page, base + path, out / f"{name}.png", clip)
            finally:
                browser.close()

    def _save(self, page, url: str, target: Path, clip: dict) -> None:
        response = page.goto(url)
        if response is None or response.status >= 400:
            raise CommandError(f"{url}: {response.status if response else 'no response'}")
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(
            path=str(target), full_page=True, clip={**clip, "height": min(clip["height"], height)}
        )
        self.stdout.write(f"{target} ({target.stat().st_size // 1024} KB)")
