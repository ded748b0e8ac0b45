"""The promoter's poster (GET /api/v1/referrals/poster/) carries a 小程序码 — scene r=<code>, opening the
mini-program, which binds the code at login — when the mini-program is configured; the link QR otherwise,
when WeChat refuses, and on item posters (whose link names the item)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.fakes.wechat_courses import CoursesWeChat

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/poster/"


@pytest.fixture
def wechat_codes(fake_wechat):
    return CoursesWeChat(fake=fake_wechat).install()


@pytest.fixture
def drawn(monkeypatch):
    """What render_poster was asked to draw, last call."""
    import referrals.posters

    seen: dict = {}
    real = referrals.posters.render_poster
    monkeypatch.setattr(referrals.posters, "render_poster", lambda **kw: seen.update(kw) or real(**kw))
    return seen


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_community_poster_carries_a_miniprogram_code_fetched_once(settings, wechat_codes, drawn):
    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = "pages/index/index"
    promoter = UserFactory()

    response = _client(promoter).get(URL)

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert wechat_codes.codes == [
        {
            "scene": f"r={promoter.referral_code}",
            "page": "pages/index/index",
            "check_path": True,
            "env_version": "release",
            "width": 430,
        }
    ]
    assert drawn["qr_png_bytes"][:3] == b"\xff\xd8\xff"  # the JPEG WeChat drew
    _client(promoter).get(URL)
    assert len(wechat_codes.codes) == 1  # cached: WeChat's quota is not spent per download


def test_without_the_miniprogram_or_when_wechat_refuses_the_link_qr(settings, wechat_codes, drawn):
    promoter = UserFactory()
    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = ""
    assert _client(promoter).get(URL).status_code == 200
    assert drawn["qr_png_bytes"] is None and f"/r/{promoter.referral_code}/" in drawn["qr_payload"]
    assert wechat_codes.codes == []

    other = UserFactory()
    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = "pages/missing/index"  # not published: WeChat answers 41030
    assert _client(other).get(URL).status_code == 200
    assert drawn["qr_png_bytes"] is None and f"/r/{other.referral_code}/" in drawn["qr_payload"]


def test_an_item_poster_keeps_the_link_that_names_the_item(settings, wechat_codes, drawn):
    from tests.factories import TierFactory

    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = "pages/index/index"
    tier = TierFactory()
    promoter = UserFactory()

    assert _client(promoter).get(URL, {"item_type": "membership", "item_id": tier.code}).status_code == 200
    assert drawn["qr_png_bytes"] is None and wechat_codes.codes == []
