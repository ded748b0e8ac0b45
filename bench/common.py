"""Shared pieces of the benchmark scripts: Django setup on the bench database, timing, markdown.

Every benchmark runs its subject and its floor side by side in the same process and run, and
prints a markdown section; scripts/bench.sh collects the sections into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/zhiquan_bench"


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (PostgreSQL only)."""
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def django_setup(*, migrate: bool = True) -> None:
    """Point Django at the bench database (BENCH_DATABASE_URL or DATABASE_URL) and migrate it."""
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_BENCH_DB
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    ensure_database(url)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


@contextmanager
def stopwatch(results: dict, key: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        results[key] = time.perf_counter() - start


def repeat_timing(func: Callable[[], object], *, repeat: int = 5) -> float:
    """Median seconds of `repeat` calls."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}×" if floor else "n/a"


def md_table(headers: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def scale_arg(default: float = 1.0) -> float:
    """`--scale 0.1` runs at a tenth of the volume (used to show how cost grows)."""
    if "--scale" in sys.argv:
        return float(sys.argv[sys.argv.index("--scale") + 1])
    return float(os.environ.get("BENCH_SCALE", default))
