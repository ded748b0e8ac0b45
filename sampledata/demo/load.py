"""Load every app's demo data in layer order (docs/architecture.md §3): `manage.py seed_demo`.

First each app's `seed`, lowest layer first; then the `seed_late` passes, for demo data built on rows
other apps' seeds created (the personas' purchases and their month, the settlement nights since, the
demo member's wallet). Idempotent.
"""

from __future__ import annotations

from typing import Any

from sampledata.demo import brand, circles, courses, growth, insights, media, members, payments, referrals

SEEDS = (
    brand.seed,
    payments.seed,
    members.seed,
    courses.seed,
    media.seed,
    circles.seed,
    referrals.seed,
    growth.seed,
    insights.seed,
)
# The personas' purchases first (members), what they did after (courses, circles), then the nights of
# settlement since (payments): each step at the moment it happened (sampledata/demo/clock.py).
LATE_SEEDS = (members.seed_late, courses.seed_late, circles.seed_late, payments.seed_late)


def load_demo_data(*, stdout: Any, history: bool = False) -> None:
    for seed in SEEDS:
        seed(stdout=stdout, history=history)
    for seed_late in LATE_SEEDS:
        seed_late(stdout=stdout, history=history)
