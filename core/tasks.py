"""Core tasks: a no-op used to prove the worker path end to end."""

from celery import shared_task
from django.core.cache import cache


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]  # celery ships no types
def record_heartbeat(token: str) -> None:
    """Write a marker the caller can look for; used by the real-worker test and /healthz drills."""
    cache.set(f"heartbeat:{token}", "done", timeout=300)
