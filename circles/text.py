"""Cleaning of member text, shared by the circles services, selectors and page forms."""

from __future__ import annotations


def plain_text(text) -> str:
    """User text trimmed, without NUL characters: PostgreSQL refuses them in text columns, so a form
    post carrying one is published without it, and a crafted search finds nothing, instead of failing."""
    return str(text or "").replace("\x00", "").strip()
