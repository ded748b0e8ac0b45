"""The demo's clock: do each step of a persona's story at the moment it happened, through the real services.

`at(moment)` moves every clock the process reads (Python's, and so Django's `timezone.now()`, the
sandbox's signature timestamps and the notification handler's freshness check alike) to `moment` and
lets it tick from there, so what a service stamps — an order number, a notification's 有效期至, a
commission's hold, a check-in, an onboarding step — is what it would have stamped then, and the rows
agree with each other. No row's time comes from the database's own clock (no `db_default=Now()`).

`days_ago` reads the real clock even inside `at()`, so moments can be computed anywhere.

time-machine is a dev-group dependency: `seed_demo` is a development and demo tool (the production
image installs no dev group and has no sandbox, so it seeds no personas), and no running app imports
`sampledata` (tests/quality/test_structure.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone


def real_now() -> datetime:
    """Now on the wall clock, also while `at()` has moved the process's clocks."""
    # a dev-group dependency: imported only where the demo replays its story (see the module docstring)
    from time_machine import escape_hatch

    if escape_hatch.is_travelling():
        return datetime.fromtimestamp(escape_hatch.time.time(), tz=UTC)
    return timezone.now()


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the block with every clock at `moment`, ticking on from there. Only the past: the demo
    replays what happened, it never writes rows dated after today."""
    # a dev-group dependency: imported only where the demo replays its story (see the module docstring)
    import time_machine

    if moment > real_now():
        raise ValueError(f"the demo replays the past, not {moment.isoformat()}")
    with time_machine.travel(moment, tick=True):
        yield


def days_ago(days: float, *, hour: int | None = None, minute: int = 0) -> datetime:
    """`days` before now, at `hour:minute` local time of that day when given; never later than a
    minute ago (today at 21:00 is a minute ago when it is not yet 21:00)."""
    now = real_now()
    moment = now - timedelta(days=days)
    if hour is not None:
        local = timezone.localtime(moment)
        moment = datetime.combine(local.date(), time(hour, minute), tzinfo=local.tzinfo)
    return min(moment, now - timedelta(minutes=1))
