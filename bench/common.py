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
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg.connect(
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
    os.environ["BENCH_DATABASE_URL"] = url  # config/settings/test.py: keep production's durable commits
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


def adding_time_to(spent: dict, key: str, call: Callable) -> Callable:
    """`call`, wrapped to add the seconds each call takes to `spent[key]` (to split a request's time
    between the parts it calls into, measured in the timed runs themselves)."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - start

    return wrapper


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


def int_arg(name: str, default: int) -> int:
    """A whole-number option of a single-module run (`--threads 4`, `--rounds 3`, `--batch 500`)."""
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def scale_arg(default: float = 1.0) -> float:
    """`--scale 0.1` runs at a tenth of the volume (used to show how cost grows)."""
    if "--scale" in sys.argv:
        return float(sys.argv[sys.argv.index("--scale") + 1])
    return float(os.environ.get("BENCH_SCALE", default))


def database_url(*, scale: float = 1.0) -> str:
    """The bench database for a volume: full volume in BENCH_DATABASE_URL, other scales beside it.

    Each volume keeps its own database so "how cost grows" compares tables of exactly that size, and
    a second run reuses the data (seeding tops up to the target counts, it never duplicates).
    """
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_BENCH_DB
    if scale == 1.0:
        return url
    parsed = urlparse(url)
    suffix = "_x" + f"{scale:g}".replace(".", "_")  # 0.1 -> _x0_1
    return parsed._replace(path=parsed.path + suffix).geturl()


def insert_select(model, values: dict[str, str], source: str, params: Iterable[object] = ()) -> int:
    """`INSERT INTO <model's table> (every column) SELECT … FROM <source>`: bulk seeding in one statement.

    `values` maps field names to SQL expressions over `source` — no placeholders there (write a literal %
    as %%): parameters belong in `source`, e.g. `generate_series(1, %s) g, (SELECT %s::bigint[] ids) p`. Every other
    column gets what Django would write: NULL when nullable, now() for auto_now(_add), else the field's
    default prepared by the field itself (encrypted, JSON, …). A NOT NULL column without a default
    that is not in `values` is an error naming it, so a new column cannot silently break seeding.
    Returns the number of rows inserted.
    """
    from django.db import connection

    columns, exprs, default_params = [], [], []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        expr = values.get(field.name, values.get(field.attname))
        if expr is not None:
            exprs.append(expr)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            exprs.append("now()")
        elif field.primary_key:
            columns.pop()
        elif field.has_default() or (field.empty_strings_allowed and not field.null):
            exprs.append("%s")  # Django's own default ("" for a text field without one)
            default_params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            exprs.append("NULL")
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value (NOT NULL, no default)")
    unknown = (
        set(values)
        - {f.name for f in model._meta.concrete_fields}
        - {f.attname for f in model._meta.concrete_fields}
    )
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*default_params, *params])
        return cursor.rowcount


def analyze(*models) -> None:
    """Fresh planner statistics after bulk seeding (autovacuum would get there, minutes later)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
