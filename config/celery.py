"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# ResilientTask: a broker outage never fails the request that enqueues (core/queueing.py).
app = Celery("zhiquan", task_cls="core.queueing:ResilientTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
