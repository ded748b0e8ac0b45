"""CELERY_SPLIT_QUEUES (docs/scaling.md): money jobs, notifications and reports each on their own queue.

Checked in a fresh interpreter per setting (the settings module reads the environment once), against
every task the apps register — so a new task lands somewhere on purpose, and nothing money-related is
left on the default queue.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from config.celery import app
app.loader.import_default_modules()
names = sorted(n for n in app.tasks if not n.startswith("celery."))
print(json.dumps({n: (app.amqp.router.route({}, n, (), {}).get("queue").name) for n in names}))
"""


def routes(split: bool) -> dict[str, str]:
    env = {**os.environ, "CELERY_SPLIT_QUEUES": "true" if split else "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_one_queue_unless_asked():
    assert set(routes(split=False).values()) == {"celery"}


def test_split_queues_keep_money_apart_from_notifications_and_reports():
    queues = routes(split=True)
    assert len(queues) >= 20, queues
    money = {name for name, queue in queues.items() if queue == "money"}
    assert {
        "payments.tasks.settle_earnings",
        "payments.tasks.refund_submit",
        "payments.tasks.withdrawal_submit",
    } <= money
    assert all(queue == "money" for name, queue in queues.items() if name.startswith("payments."))
    assert queues["courses.tasks.send_checkin_reminders"] == "notify"
    assert queues["members.tasks.notification_push"] == "notify"
    assert all(queue == "reports" for name, queue in queues.items() if name.startswith("insights."))
    assert queues["core.tasks.record_heartbeat"] == "celery"  # the rest: the plain worker
    refunds = [name for name in queues if "refund" in name]
    assert refunds and all(queues[name] == "money" for name in refunds), refunds
