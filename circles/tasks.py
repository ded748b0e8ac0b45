"""Celery tasks of the circles app (thin: call one service, idempotent)."""

from celery import shared_task

from circles.services import sweep


@shared_task(name="circles.tasks.circles_sweep", acks_late=True)
def circles_sweep() -> dict:
    return sweep.circles_sweep()
