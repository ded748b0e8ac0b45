"""Mini-program routes the courses app calls, added to the fake WeChat (tests/fakes/wechat.py).

- `POST /wxa/getwxacodeunlimit?access_token=…` JSON `{"scene", "page"?, "check_path"?, "env_version"?,
  "width"?, "auto_color"?, "line_color"?, "is_hyaline"?}` → the image bytes (JPEG, or PNG when
  `is_hyaline`), as WeChat answers; errors are JSON: 40001 bad token, 40169 scene longer than 32 characters
  or empty, 40129 a scene character outside WeChat's set, 41030 page not published (with `check_path`),
  40097 bad `env_version` / `width` / a page starting with "/".
- `POST /wxa/msg_sec_check?access_token=…` JSON `{"content", "version": 2, "scene": 1-4, "openid"}` →
  `{"errcode": 0, "errmsg": "ok", "result": {"suggest", "label"}, "detail": [...], "trace_id"}`;
  40001 bad token, 40097 bad version/scene/content (v1 bodies are refused), 61010 an openid that has
  not used the mini-program lately (when `active_openids` is set).

Both check the access token in the query string as WeChat does.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from dataclasses import dataclass, field

import qrcode
from werkzeug import Request, Response

from tests.fakes.wechat import FakeWeChat

SCENE_CHARS = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")


@dataclass
class CoursesWeChat:
    fake: FakeWeChat
    # Pages of the released mini-program (getwxacodeunlimit with check_path=true refuses others).
    pages: set[str] = field(default_factory=lambda: {"pages/index/index"})
    codes: list[dict] = field(default_factory=list)  # every accepted getwxacodeunlimit body
    # msgSecCheck: word -> verdict ("review" / "risky"); anything else passes.
    verdicts: dict[str, str] = field(default_factory=dict)
    active_openids: set[str] | None = None  # None = every openid counts as recently active
    checked: list[dict] = field(default_factory=list)  # every msg_sec_check body

    def install(self) -> CoursesWeChat:
        self.fake.route("POST", r"/wxa/getwxacodeunlimit", self._wxacode)
        self.fake.route("POST", r"/wxa/msg_sec_check", self._msg_sec_check)
        return self

    def _token_ok(self, request: Request) -> bool:
        return request.args.get("access_token") == self.fake.access_token

    @staticmethod
    def _error(errcode: int, errmsg: str) -> Response:
        return Response(
            json.dumps({"errcode": errcode, "errmsg": errmsg}),
            content_type="application/json; encoding=utf-8",
        )

    # ---- getwxacodeunlimit ------------------------------------------------------------------------------
    def _wxacode(self, request: Request, match: re.Match) -> Response:
        if not self._token_ok(request):
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return self._error(47001, "data format error")
        scene = body.get("scene", "")
        if not isinstance(scene, str) or not 0 < len(scene) <= 32:
            return self._error(40169, "invalid length for scene, or the data is not json string")
        if not SCENE_CHARS.match(scene):
            return self._error(40129, "invalid scene")
        page = body.get("page", "")
        if page.startswith("/"):
            return self._error(40097, "invalid args: page must not start with /")
        if body.get("env_version", "release") not in ("release", "trial", "develop"):
            return self._error(40097, "invalid args: env_version")
        width = body.get("width", 430)
        if not isinstance(width, int) or not 280 <= width <= 1280:
            return self._error(40097, "invalid args: width")
        if body.get("check_path", True) and page and page not in self.pages:
            return self._error(41030, "invalid page hint")
        self.codes.append(body)
        image = qrcode.make(f"wxacode:{page}?{scene}").convert("RGB").resize((width, width))
        buffer = io.BytesIO()
        hyaline = bool(body.get("is_hyaline"))
        image.save(buffer, format="PNG" if hyaline else "JPEG")
        return Response(buffer.getvalue(), content_type="image/png" if hyaline else "image/jpeg")

    # ---- msgSecCheck v2 -----------------------------------------------------------------------------------
    def _msg_sec_check(self, request: Request, match: re.Match) -> Response:
        if not self._token_ok(request):
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return self._error(47001, "data format error")
        content = body.get("content")
        if body.get("version") != 2 or body.get("scene") not in (1, 2, 3, 4):
            return self._error(40097, "invalid args")
        if not isinstance(content, str) or not content or len(content) > 2500:
            return self._error(40097, "invalid args: content")
        openid = body.get("openid", "")
        if not openid:
            return self._error(40003, "invalid openid")
        if self.active_openids is not None and openid not in self.active_openids:
            return self._error(61010, "user is in invalid status")
        self.checked.append(body)
        suggest, label = "pass", 100
        for word, verdict in self.verdicts.items():
            if word in content and verdict in ("review", "risky"):
                if verdict == "risky" or suggest == "pass":
                    suggest, label = verdict, 20006 if verdict == "risky" else 21000
        result = {"suggest": suggest, "label": label}
        return Response(
            json.dumps(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "result": result,
                    "detail": [{"strategy": "content_model", "errcode": 0, **result, "prob": 90}],
                    "trace_id": secrets.token_hex(12),
                }
            ),
            content_type="application/json",
        )
