"""Reads of the circles app, one module per subject: access, posts (the ORM feed), the feed's SQL
hot path, comments, members, stats, moderation and paid questions."""
