"""The state machine of an event registration: one table of legal moves and the functions that make them.

A registration is a seat held for payment (`pending`), a ticket (`confirmed`), a waitlist place
(`waitlisted`), or ended (`cancelled`, `refunded`); a member who left may come back, so the ended states
lead back in. Every status change of a registration goes through `registration_transition` (one row,
locked by the caller or not yet saved) or `registrations_move` (a conditional bulk UPDATE), which refuse a
move the table does not allow, as `payments.orders.transitions.order_transition` does for orders.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.models import EventRegistration

R = EventRegistration.Status
# A registration not saved yet has no status.
NEW = ""

TRANSITIONS: dict[str, set[str]] = {
    # A paid order that finds the event full is recorded as cancelled (the order is refunded).
    NEW: {R.PENDING, R.CONFIRMED, R.WAITLISTED, R.CANCELLED},
    # pending → pending: a hold that expired is taken again by a new registration.
    R.PENDING: {R.PENDING, R.CONFIRMED, R.WAITLISTED, R.CANCELLED},
    R.WAITLISTED: {R.PENDING, R.CONFIRMED, R.CANCELLED},
    R.CONFIRMED: {R.CANCELLED, R.REFUNDED},
    # cancelled → cancelled: a later paid order finds the event full and is recorded on the same row.
    R.CANCELLED: {R.PENDING, R.CONFIRMED, R.WAITLISTED, R.CANCELLED},
    R.REFUNDED: {R.PENDING, R.CONFIRMED, R.WAITLISTED, R.CANCELLED},
}


class IllegalRegistrationTransition(ApplicationError):
    def __init__(self, from_status: str, to: str):
        super().__init__(
            "illegal_transition",
            _("报名当前状态不允许此操作"),
            status_code=409,
            extra={"from": from_status, "to": to},
        )


def transition_check(from_status: str, to: str) -> None:
    """Refuse a move the table does not allow (IllegalRegistrationTransition)."""
    if to not in TRANSITIONS.get(from_status, set()):
        raise IllegalRegistrationTransition(from_status, to)


def registration_transition(registration: EventRegistration, *, to: str, **fields) -> EventRegistration:
    """Move a registration (LOCKED by the caller, or new) to `to`, refusing an illegal move, and save it
    with the other `fields` given (set on the instance and saved in the same statement)."""
    transition_check(registration.status, to)
    registration.status = to
    for name, value in fields.items():
        setattr(registration, name, value)
    if registration._state.adding:
        registration.save()
    else:
        registration.save(update_fields=["status", *fields, "updated_at"])
    return registration


def registrations_move(queryset, *, from_status: str, to: str, **fields) -> int:
    """Move every registration of `queryset` that is still `from_status` to `to` in one conditional
    UPDATE (so each moves once even when two workers race), refusing an illegal move. Returns how many."""
    transition_check(from_status, to)
    return queryset.filter(status=from_status).update(status=to, **fields)
