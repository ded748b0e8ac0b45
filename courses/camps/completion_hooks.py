"""Who hears that a member completed a camp term (结营): apps above courses register a listener in their
AppConfig.ready() (the growth app gives graduation coupons), so courses never imports them.

Listeners run inside the transaction that completes the seat, each in its own savepoint: a failing
listener is logged and never undoes the member's check-in or certificate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_listeners: list[Callable[[object], object]] = []


def on_term_completed(listener: Callable[[object], object]) -> None:
    """Register `listener(seat)`, called once when a seat first completes its term."""
    if listener not in _listeners:
        _listeners.append(listener)


def term_completed(seat) -> None:
    for listener in list(_listeners):
        try:
            with transaction.atomic():
                listener(seat)
        except Exception:  # noqa: BLE001 - another app's bug must not lose the member's check-in
            logger.exception("term-completed listener %r failed for seat %s", listener, seat.pk)
