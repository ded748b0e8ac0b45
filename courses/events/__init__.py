"""Offline events (线下课): registrations and their state machine, tickets, the waitlist, tier-included
tickets and check-in at the door (核销)."""
