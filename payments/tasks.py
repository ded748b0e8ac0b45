"""Celery discovers `payments.tasks`; the tasks themselves live with their area (names are explicit)."""

from payments.orders.tasks import *  # noqa: F403
from payments.wallet.tasks import *  # noqa: F403
