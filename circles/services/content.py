"""The content check on member text (WeChat's msg_sec_check): the verdict on a whole text, and the
status a post, comment or question gets from it. Risky text is refused before anything is written.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from circles.models import Post
from core import content_check
from core.errors import ApplicationError
from members.auth.selectors import miniprogram_openid

_VERDICT_ORDER = {content_check.PASS: 0, content_check.REVIEW: 1, content_check.RISKY: 2}


def text_verdict(*, user, text: str, scene: int = 3) -> str:
    """The content check's verdict on ALL of `text`: long posts are checked in pieces the size WeChat
    accepts, and the worst piece decides (pass < review < risky)."""
    text = text or ""
    size = content_check.MAX_CHARS
    openid = miniprogram_openid(user)
    worst = content_check.PASS
    for start in range(0, max(len(text), 1), size):
        verdict = content_check.check_text(text[start : start + size], openid=openid, scene=scene)
        if _VERDICT_ORDER.get(verdict.suggest, 1) > _VERDICT_ORDER[worst]:
            worst = verdict.suggest if verdict.suggest in _VERDICT_ORDER else content_check.REVIEW
        if worst == content_check.RISKY:
            break
    return worst


def status_after_content_check(*, user, text: str, scene: int = 3, field: str = "body") -> str:
    """Return the status the content gets ('visible' or 'review'); raise content_rejected when risky."""
    verdict = text_verdict(user=user, text=text, scene=scene)
    if verdict == content_check.RISKY:
        raise ApplicationError(
            "content_rejected", _("内容包含违规信息，未能发布"), fields={field: [_("内容未通过安全检查")]}
        )
    return Post.Status.VISIBLE if verdict == content_check.PASS else Post.Status.REVIEW
