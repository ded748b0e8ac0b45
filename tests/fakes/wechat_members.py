"""Mini-program routes the members app calls, added to the fake WeChat (tests/fakes/wechat.py).

- `POST /wxa/business/getuserphonenumber?access_token=…` `{"code"}` → `{"errcode": 0, "phone_info":
  {"phoneNumber", "purePhoneNumber", "countryCode", "watermark": {"timestamp", "appid"}}}`;
  an unknown or used code → `{"errcode": 40029, "errmsg": "invalid code"}`.
- `POST /cgi-bin/message/subscribe/send?access_token=…` `{"touser", "template_id", "page"?, "data"}` →
  `{"errcode": 0, "errmsg": "ok", "msgid"}`; WeChat's own opt-in count per (openid, template) is kept
  here: none left → 43101; unknown template → 40037; unknown openid → 40003; a keyword missing or too
  long → 47003.

Both check the access token in the query string (40001 otherwise), as WeChat does.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field

from werkzeug import Request, Response

from tests.fakes.wechat import FakeWeChat

# Keyword value limits WeChat enforces (subscribe message docs).
LIMITS = {"thing": 20, "name": 10, "phrase": 5, "character_string": 32, "number": 32, "letter": 32}


@dataclass
class MembersWeChat:
    fake: FakeWeChat
    phone_codes: dict[str, str] = field(default_factory=dict)  # code -> phone (single use)
    templates: dict[str, list[str]] = field(default_factory=dict)  # template_id -> keyword names
    openids: set[str] = field(default_factory=set)  # openids WeChat knows (None = accept any)
    quota: dict[tuple[str, str], int] = field(default_factory=dict)  # (openid, template_id) -> left
    sent: list[dict] = field(default_factory=list)
    # Set to make the next send fail: list of (errcode, errmsg) popped per send.
    send_failures: list[tuple[int, str]] = field(default_factory=list)
    # Seconds to sleep before answering getuserphonenumber / send (timeout tests).
    delay_seconds: float = 0.0

    def install(self) -> MembersWeChat:
        self.fake.route("POST", r"/wxa/business/getuserphonenumber", self._phone_number)
        self.fake.route("POST", r"/cgi-bin/message/subscribe/send", self._subscribe_send)
        return self

    # ---- test-facing helpers --------------------------------------------------------------------------
    def phone_code(self, phone: str = "13800138000") -> str:
        code = "phone_" + secrets.token_hex(6)
        self.phone_codes[code] = phone
        return code

    def template(self, template_id: str, keywords: list[str]) -> None:
        self.templates[template_id] = list(keywords)

    def accept(self, openid: str, template_id: str, times: int = 1) -> None:
        """The member tapped "allow" in wx.requestSubscribeMessage (WeChat's side of the count)."""
        self.openids.add(openid)
        self.quota[(openid, template_id)] = self.quota.get((openid, template_id), 0) + times

    # ---- handlers ------------------------------------------------------------------------------------
    def _token_ok(self, request: Request) -> bool:
        return request.args.get("access_token") == self.fake.access_token

    def _phone_number(self, request: Request, match: re.Match) -> Response:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if not self._token_ok(request):
            return self.fake.wx_json(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        data = json.loads(request.get_data(as_text=True) or "{}")
        phone = self.phone_codes.pop(data.get("code", ""), None)
        if phone is None:
            return self.fake.wx_json({"errcode": 40029, "errmsg": "invalid code"})
        return self.fake.wx_json(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": self.fake.appid},
                },
            }
        )

    def _subscribe_send(self, request: Request, match: re.Match) -> Response:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if not self._token_ok(request):
            return self.fake.wx_json(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        data = json.loads(request.get_data(as_text=True) or "{}")
        if self.send_failures:
            errcode, errmsg = self.send_failures.pop(0)
            return self.fake.wx_json({"errcode": errcode, "errmsg": errmsg})
        openid, template_id = data.get("touser", ""), data.get("template_id", "")
        if openid not in self.openids:
            return self.fake.wx_json({"errcode": 40003, "errmsg": "invalid openid"})
        if template_id not in self.templates:
            return self.fake.wx_json({"errcode": 40037, "errmsg": "invalid template_id"})
        values = data.get("data") or {}
        for keyword in self.templates[template_id]:
            value = (values.get(keyword) or {}).get("value")
            limit = LIMITS.get(keyword.rstrip("0123456789"))
            if value is None or (limit and len(str(value)) > limit):
                return self.fake.wx_json(
                    {"errcode": 47003, "errmsg": f"argument invalid! data.{keyword}.value"}
                )
        if self.quota.get((openid, template_id), 0) <= 0:
            return self.fake.wx_json({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        self.quota[(openid, template_id)] -= 1
        self.sent.append(data)
        return self.fake.wx_json({"errcode": 0, "errmsg": "ok", "msgid": int(time.time() * 1000)})
