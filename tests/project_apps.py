"""The project's own Django apps in layer order (docs/architecture.md §3), for tests that check
every app: one list, so a new app is covered everywhere by adding it here."""

PROJECT_APPS = ("core", "payments", "members", "courses", "circles", "referrals", "growth", "insights")
