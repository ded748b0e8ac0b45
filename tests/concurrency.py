"""Concurrency helper for tests on real PostgreSQL: start jobs at the same instant on threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_together(jobs: list[Callable[[], object]]) -> list[object]:
    """Start every job at the same instant on its own thread; return results (or exceptions).

    Each thread has its own database connection (Django's are per thread) and closes it when done,
    so the test database can be dropped afterwards.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def runner(i: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
