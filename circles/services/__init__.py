"""Writes of the circles app, one module per subject: circles and rules, pricing, memberships,
owner tools, posts, comments, moderation, tips, paid questions, the content check and the sweep."""
