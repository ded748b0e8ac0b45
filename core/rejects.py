"""Unauthenticated junk is counted and sampled, not stored in full.

Anyone can POST to the WeChat Pay notify URL. A verified notification is stored whole (it is evidence
of money moving); a rejected one (bad signature, stale timestamp, undecryptable) is counted per
minute in core.AttemptCounter — key `rejected:<kind>`, visible in admin under 尝试计数 — and only the
first `REJECTED_SAMPLES_PER_MINUTE` of each minute are kept, cut to `REJECTED_SAMPLE_BYTES`, so a
flood costs one counter update per request instead of 100 KB of table. When a minute's count reaches
`REJECTED_ALERT_PER_MINUTE` the log gets one `ALERT` line for operators (the same word the money
alerts use).
"""

from __future__ import annotations

import logging

from django.conf import settings

from core import counters

logger = logging.getLogger("core.rejects")


def rejected_request(kind: str) -> bool:
    """Count one rejected request of `kind`; True when this one should be kept as a sample."""
    count = counters.bump(f"rejected:{kind}", seconds=60)
    alert_at = int(getattr(settings, "REJECTED_ALERT_PER_MINUTE", 50))
    if count == alert_at:
        logger.error("ALERT rejected %s requests spiking: %s in this minute", kind, count)
    return count <= int(getattr(settings, "REJECTED_SAMPLES_PER_MINUTE", 5))


def sample_text(text: str) -> str:
    limit = int(getattr(settings, "REJECTED_SAMPLE_BYTES", 2048))
    return text if len(text) <= limit else text[:limit] + "…[truncated]"
