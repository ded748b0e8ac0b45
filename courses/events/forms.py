"""The event pages' input, validated by a Django form: the ticket code staff type or scan at the door.
The code is normalised and checked against the event by `courses.events.door_checkin`."""

from __future__ import annotations

from django import forms


class TicketCodeForm(forms.Form):
    # A scanned QR gives the whole ticket URL; the check-in service takes the code out of it.
    code = forms.CharField(required=False, max_length=500)
