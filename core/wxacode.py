"""Unlimited mini-program codes (小程序码, `wxa/getwxacodeunlimit`) for posters: cached, since WeChat's
quota is not to be spent per view; None when WeChat fails or refuses, so the caller draws a link QR."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from core.wechat import miniprogram_client

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30 * 24 * 3600


def referral_scene(code: str) -> str:
    """The scene the mini-program reads a referral code from (`r=<code>`, utils/referral.js)."""
    return f"r={code}"


def miniprogram_code_png(*, scene: str, page: str) -> bytes | None:
    """The image WeChat draws for `scene` opening `page` (a published page: `check_path`)."""
    key = f"core:wxacode:{page}:{scene}"
    cached = cache.get(key)
    if cached:
        return bytes(cached)
    try:
        response = miniprogram_client().post(
            "wxa/getwxacodeunlimit",
            data={"scene": scene, "page": page, "check_path": True, "env_version": "release", "width": 430},
            api_base_url=settings.WECHAT_API_BASE_URL + "/",
        )
    except Exception as exc:  # noqa: BLE001 - WeChat down or refusing: the web link QR still works
        logger.warning("getwxacodeunlimit failed (%s); falling back to a link QR", exc.__class__.__name__)
        return None
    content = getattr(response, "content", None)
    if not content:
        return None
    cache.set(key, content, timeout=CACHE_SECONDS)
    return bytes(content)
