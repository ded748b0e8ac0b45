"""Celery discovers `courses.tasks`: the app-wide automatic refund task lives here, and the subjects'
tasks (`courses.camps.tasks`, `courses.events.tasks`, `courses.media.tasks`) are imported so the worker registers them.

Every task keeps its registered `courses.tasks.*` name: beat schedules, queue routes, `MONEY_TASKS` and
stored PeriodicTask rows refer to them by name."""

from celery import shared_task

from courses import orders
from courses.camps import tasks as camp_tasks  # noqa: F401 - registers the camps' tasks with Celery
from courses.events import tasks as event_tasks  # noqa: F401 - registers the events' tasks with Celery
from courses.media import tasks as media_tasks  # noqa: F401 - registers the media tasks with Celery


@shared_task(name="courses.tasks.refund_order", acks_late=True)
def refund_order(order_no: str, reason: str) -> None:
    """Refund an order the system marked as owed an automatic refund (`courses.orders.refund_later`).

    Any other order number is refused with a warning and nothing changes, whoever sends it."""
    orders.order_refund_for(order_no=order_no, reason=reason)
