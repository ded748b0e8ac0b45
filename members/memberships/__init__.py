"""Memberships: tiers, grants (start, renew, upgrade, refund), upgrade pricing, member numbers and
renewal reminders."""
