"""Celery tasks of the circles app (thin: call one service, idempotent)."""

from celery import shared_task

from circles.services import scheduling, sweep


@shared_task(name="circles.tasks.circles_sweep", acks_late=True)
def circles_sweep() -> dict:
    return sweep.circles_sweep()


@shared_task(name="circles.tasks.posts_publish_due", acks_late=True)
def posts_publish_due() -> dict:
    return scheduling.posts_publish_due()
