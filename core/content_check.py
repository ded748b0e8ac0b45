"""Content security for user text (circles, check-ins): WeChat msgSecCheck v2.

Verdicts: "pass" (visible), "review" (moderation queue), "risky" (rejected). WeChat needs the
openid of someone who used the mini-program in the last 2 hours; for web-only users, or when WeChat
cannot be reached, a local blocklist decides and doubtful cases go to review (fail safe, never open).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from core.wechat import miniprogram_client

logger = logging.getLogger(__name__)

PASS, REVIEW, RISKY = "pass", "review", "risky"
MAX_CHARS = 2500
# The openids the development sandbox login gives (members.auth.services.sandbox_code2session): WeChat
# has never seen them, so their text is checked like a web user's, against the local blocklist.
SANDBOX_OPENID_PREFIX = "o_sandbox_"

# Operators extend this in settings (CONTENT_BLOCKLIST); these are illustrative defaults.
DEFAULT_BLOCKLIST = ("赌博", "博彩", "代开发票", "枪支", "毒品", "传销")


@dataclass(frozen=True)
class Verdict:
    suggest: str
    label: int | None = None
    source: str = "local"

    @property
    def visible(self) -> bool:
        return self.suggest == PASS


def _local_verdict(text: str) -> Verdict:
    blocklist = getattr(settings, "CONTENT_BLOCKLIST", DEFAULT_BLOCKLIST)
    if any(word in text for word in blocklist):
        return Verdict(RISKY, source="local")
    return Verdict(PASS, source="local")


def check_text(text: str, *, openid: str = "", scene: int = 2) -> Verdict:
    """Check user text. scene: 1 profile, 2 comment, 3 forum, 4 social log (WeChat's numbering)."""
    text = (text or "")[:MAX_CHARS]
    local = _local_verdict(text)
    if local.suggest == RISKY or not text.strip():
        return local
    if not openid or openid.startswith(SANDBOX_OPENID_PREFIX):
        return local
    try:
        result = miniprogram_client().post(
            "wxa/msg_sec_check",
            data={"content": text, "version": 2, "scene": scene, "openid": openid},
            api_base_url=settings.WECHAT_API_BASE_URL + "/",
        )
    except Exception as exc:  # noqa: BLE001 - WeChat down: hold for a human rather than publish unchecked
        logger.warning("msgSecCheck failed (%s); holding for review", exc.__class__.__name__)
        return Verdict(REVIEW, source="fallback")
    verdict = (result.get("result") or {}).get("suggest", REVIEW)
    label = (result.get("result") or {}).get("label")
    if verdict not in (PASS, REVIEW, RISKY):
        verdict = REVIEW
    return Verdict(verdict, label=label, source="wechat")
