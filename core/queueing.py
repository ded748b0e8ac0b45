"""The base class of every Celery task: enqueueing never fails a request when the broker is down.

Every task here is a retry of state already committed to PostgreSQL (docs/architecture.md §6): a refund
to submit, a notification to push, a report to mail. Each has a periodic sweep that finds the due rows
again (orders_sweep, refunds, notifications_push_sweep, …), so a task that cannot be queued is logged
and left to that sweep instead of turning a paid order or a login into a 500. The publish is tried
once with a short timeout (settings CELERY_BROKER_CONNECTION_TIMEOUT / CELERY_TASK_PUBLISH_RETRY_POLICY).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class ResilientTask(Task):  # type: ignore[misc]  # celery ships no type hints
    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        try:
            return super().apply_async(args, kwargs, **options)
        except (OperationalError, ConnectionError, OSError) as exc:
            if self.app.conf.task_always_eager:
                raise
            logger.warning("broker unavailable, %s(%s) left to its sweep: %r", self.name, args, exc)
            return None
