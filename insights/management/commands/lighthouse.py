"""Lighthouse (mobile) on the eight key pages of a running site: `make lighthouse` calls it.

    scripts/lighthouse.sh                                   # builds a throwaway demo site, then:
    .venv/bin/python manage.py lighthouse --url http://127.0.0.1:PORT --out var/lighthouse/runs

The pages are the eight of docs/screens (`page_screenshots`): the home as a visitor, then, signed in
as the `vip` persona, the home, tiers, a course, a lesson, a circle feed, a camp term and 我的. The
member's session cookie reaches Lighthouse through `--extra-headers`. Each page is measured `--runs`
times with Lighthouse's default mobile settings (simulated slow 4G and a 4× slower CPU) into
`<out>/<page>-<n>.json`; `scripts/lighthouse_report.py` turns them into the table in docs/quality.md.
Lighthouse itself is the npm package pinned in tools/lighthouse/ and runs Debian's Chromium
(`CHROME_PATH`, default /usr/bin/chromium): no browser is ever downloaded.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insights.management.commands.page_screenshots import member_pages
from sampledata.demo.members import DEMO_PASSWORD

CATEGORIES = "performance,accessibility,best-practices,seo"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --no-first-run"


def _login(base: str, username: str, password: str) -> str:
    """Sign in through the login form like a browser; return the Cookie header the session needs."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base}/accounts/login/"
    with opener.open(login_url, timeout=30) as response:
        html = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if token is None:
        raise CommandError(f"{login_url}: no CSRF token in the login form")
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token[1], "login": username, "password": password}
    ).encode()
    request = urllib.request.Request(login_url, data=body, headers={"Referer": login_url})
    with opener.open(request, timeout=30):
        pass
    cookies = {cookie.name: cookie.value for cookie in jar}
    if settings.SESSION_COOKIE_NAME not in cookies:
        raise CommandError(f"signing in as {username} gave no session cookie (wrong password?)")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# A run whose trace Lighthouse lost is repeated, at most this many times in all.
TRACE_ATTEMPTS = 3


class Command(BaseCommand):
    help = "Run Lighthouse (mobile) on the eight key pages of a running site; JSON reports into --out."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="the running site, e.g. http://127.0.0.1:8000")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "var" / "lighthouse" / "runs"))
        parser.add_argument("--runs", type=int, default=3, help="runs per page (the report takes the median)")
        parser.add_argument("--username", default="vip")
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument(
            "--lighthouse",
            default=str(
                Path(settings.BASE_DIR) / "tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
            ),
        )
        parser.add_argument("--only", nargs="*", default=None, help="measure only these pages (by name)")

    def handle(self, *args, **options):
        binary = Path(options["lighthouse"])
        if not binary.exists():
            raise CommandError(
                f"{binary} is missing: run `npm ci` in tools/lighthouse (scripts/lighthouse.sh does)"
            )
        base = options["url"].rstrip("/")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
        cookie = _login(base, options["username"], options["password"])
        pages = [("home-visitor", "/", None)] + [(name, path, cookie) for name, path in member_pages()]
        if options["only"]:
            pages = [page for page in pages if page[0] in options["only"]]
        for name, path, page_cookie in pages:
            for run in range(1, options["runs"] + 1):
                target = out / f"{name}-{run}.json"
                command = [
                    str(binary),
                    base + path,
                    f"--chrome-flags={CHROME_FLAGS}",
                    f"--only-categories={CATEGORIES}",
                    "--output=json",
                    f"--output-path={target}",
                    "--quiet",
                ]
                if page_cookie:
                    command.append("--extra-headers=" + json.dumps({"Cookie": page_cookie}))
                for attempt in range(1, TRACE_ATTEMPTS + 1):
                    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
                    # Lighthouse 12 with headless Chromium now and then loses the page load's trace
                    # (NO_NAVSTART, "Please run Lighthouse again"): that run measured nothing, so it is
                    # run again; any other failure stops the measurement.
                    if "NO_NAVSTART" in result.stderr and attempt < TRACE_ATTEMPTS:
                        self.stdout.write(f"{name} #{run} {path}: trace lost (NO_NAVSTART), measuring again")
                        continue
                    break
                if result.returncode != 0 or not target.exists():
                    raise CommandError(
                        f"lighthouse {path} failed ({result.returncode}): {result.stderr[-2000:]}"
                    )
                report = json.loads(target.read_text())
                if report.get("runtimeError"):
                    raise CommandError(f"lighthouse {path}: {report['runtimeError']}")
                if urllib.parse.urlsplit(report["finalDisplayedUrl"]).path != path:
                    # A member page that bounced to the login form would measure the wrong page.
                    raise CommandError(f"lighthouse {path} ended on {report['finalDisplayedUrl']}")
                # Record what was measured, so the report can name the page and the signed-in state.
                report["zhiquan"] = {
                    "page": name,
                    "path": path,
                    "signed_in": bool(page_cookie),
                    "run": run,
                    "cores": os.cpu_count(),
                    "load": round(os.getloadavg()[0], 1),  # others' work on a shared machine shows here
                }
                target.write_text(json.dumps(report))
                scores = " ".join(
                    f"{key}={round((category['score'] or 0) * 100)}"
                    for key, category in report["categories"].items()
                )
                self.stdout.write(f"{name} #{run} {path}: {scores}")
