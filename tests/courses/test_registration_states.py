"""The event registration state machine (`courses.events.registration_states`): every legal move in the
table is made and saved; an illegal one is refused and changes nothing, for one row and in bulk."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from courses.events.registration_states import (
    NEW,
    TRANSITIONS,
    registration_transition,
    registrations_move,
)
from courses.models import EventRegistration
from tests.courses import factories as f
from tests.factories import UserFactory

R = EventRegistration.Status
ALL = [NEW, *R.values]


def _registration(status: str) -> EventRegistration:
    """A registration in `status` (unsaved for NEW), with a ticket code (a confirmed one needs it)."""
    registration = EventRegistration(event=f.make_event(), user=UserFactory(), ticket_code=f"T{status[:6]}")
    if status != NEW:
        registration.status = status
        registration.save()
    return registration


LEGAL = [(a, b) for a in ALL for b in R.values if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a in ALL for b in R.values if b not in TRANSITIONS[a]]


def test_the_table_names_every_status_and_ended_states_lead_back_in():
    assert set(TRANSITIONS) == set(ALL)
    assert TRANSITIONS[R.CONFIRMED] == {R.CANCELLED, R.REFUNDED}
    for ended in (R.CANCELLED, R.REFUNDED):
        assert {R.PENDING, R.CONFIRMED, R.WAITLISTED} <= TRANSITIONS[ended]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to"), LEGAL)
def test_a_legal_move_is_made_and_saved(from_status, to):
    registration = _registration(from_status)
    now = timezone.now()
    registration_transition(registration, to=to, cancel_reason="why", cancelled_at=now)
    stored = EventRegistration.objects.get(pk=registration.pk)
    assert (stored.status, stored.cancel_reason, stored.cancelled_at) == (to, "why", now)


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to"), ILLEGAL)
def test_an_illegal_move_is_refused_and_changes_nothing(from_status, to):
    registration = _registration(from_status)
    with pytest.raises(ApplicationError) as refused:
        registration_transition(registration, to=to, cancel_reason="why")
    assert refused.value.code == "illegal_transition" and refused.value.status_code == 409
    assert refused.value.extra == {"from": from_status, "to": to}
    assert registration.status == from_status and registration.cancel_reason == ""
    if from_status != NEW:
        stored = EventRegistration.objects.get(pk=registration.pk)
        assert (stored.status, stored.cancel_reason) == (from_status, "")
    else:
        assert not EventRegistration.objects.exists()


@pytest.mark.django_db
def test_a_bulk_move_takes_only_the_rows_still_in_the_from_state():
    held, ticket = _registration(R.PENDING), _registration(R.CONFIRMED)
    rows = EventRegistration.objects.filter(pk__in=[held.pk, ticket.pk])
    assert registrations_move(rows, from_status=R.PENDING, to=R.CANCELLED, cancel_reason="hold_expired") == 1
    assert registrations_move(rows, from_status=R.PENDING, to=R.CANCELLED) == 0  # once only
    assert EventRegistration.objects.get(pk=held.pk).status == R.CANCELLED
    assert EventRegistration.objects.get(pk=ticket.pk).status == R.CONFIRMED


@pytest.mark.django_db
def test_a_bulk_illegal_move_is_refused_before_any_row_changes():
    ticket = _registration(R.CONFIRMED)
    with pytest.raises(ApplicationError):
        registrations_move(EventRegistration.objects.all(), from_status=R.CONFIRMED, to=R.WAITLISTED)
    assert EventRegistration.objects.get(pk=ticket.pk).status == R.CONFIRMED
