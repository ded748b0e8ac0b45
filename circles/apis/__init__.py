"""The circles REST API (/api/v1/circles/…), one module per subject: circles, posts and comments,
moderation, tips, paid questions, owner tools; `payloads` holds what they share."""
