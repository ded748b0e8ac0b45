"""Ids that arrive as text (URL parts, order item ids), parsed once: `id_or_404` for pages and reads,
`item_id_or_unavailable` for the item types payments asks to price or fulfil."""

from __future__ import annotations

from django.http import Http404

from payments import items


def item_id_or_unavailable(item_id) -> int:
    try:
        return int(item_id)
    except (TypeError, ValueError):
        raise items.ItemUnavailable() from None


def id_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None
