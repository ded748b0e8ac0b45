"""Courses and lessons: the catalog, enrolments (bought, redeemed or granted), lesson access and progress."""
