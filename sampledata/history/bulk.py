"""Bulk inserts with the timestamps the history needs: the batch size, and `explicit_timestamps` to keep
the `created_at`/`updated_at` values set on the rows (Django's auto_now fields would overwrite them).
"""

from __future__ import annotations

from contextlib import contextmanager

BATCH = 2000


@contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the created_at/updated_at values we set (auto_now(_add) off meanwhile)."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add
