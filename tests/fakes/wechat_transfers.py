"""WeChat Pay 商家转账 (transfer-bills, user-confirmation mode) on the fake WeChat, in the real wire format.

`install(fake) -> FakeTransfers` registers on `FakeWeChat` (whose dispatcher already refuses a bad
merchant signature with 401 SIGN_ERROR and signs every response with the platform key):

- `POST /v3/fund-app/mch-transfer/transfer-bills` → `{"out_bill_no", "transfer_bill_no", "create_time",
  "state", "package_info"}`. Validated like WeChat: appid of the merchant's app, out_bill_no of 5–32
  letters/digits, scene id, openid, amount ≥ 10 fen, remark ≤ 32 characters, scene report infos;
  `user_name` required from 200,000 fen, RSA-OAEP encrypted with WeChat's public key and announced by
  a `Wechatpay-Serial` header naming that key (decrypted here with the platform private key). The same
  out_bill_no again returns the same bill; with other parameters it is refused.
- `GET …/transfer-bills/out-bill-no/{no}` → the bill, or `404 NOT_FOUND`.
- `POST …/transfer-bills/out-bill-no/{no}/cancel` → `{"state": "CANCELING", …}` (the bill then reads
  CANCELLED), refused unless the bill still waits for the payee.

Tests drive WeChat's side: `confirm(no)` (the payee confirms → SUCCESS), `fail(no, reason)`,
`close_unconfirmed(no)` (WeChat's own 24-hour close) each return the signed MCHTRANSFER.BILL.FINISHED
notification; `create_failures` answers the next create calls with an error, optionally after creating
the bill (the answer was lost on the way back).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from werkzeug import Request, Response

from tests.fakes.wechat import FakeWeChat

BASE = "/v3/fund-app/mch-transfer/transfer-bills"
OUT_BILL_NO = re.compile(r"^[0-9A-Za-z]{5,32}$")


def _now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))


@dataclass
class CreateFailure:
    status: int
    body: dict
    create_bill: bool = False  # True: WeChat created the bill, but the answer we get is this error


@dataclass
class FakeTransfers:
    fake: FakeWeChat
    bills: dict[str, dict] = field(default_factory=dict)  # out_bill_no -> bill
    requests: list[dict] = field(default_factory=list)  # every create request body, as received
    create_failures: list[CreateFailure] = field(default_factory=list)
    initial_state: str = "WAIT_USER_CONFIRM"

    # ---- wiring ---------------------------------------------------------------------------------------
    def install(self) -> FakeTransfers:
        self.fake.route("POST", BASE, self._create)
        self.fake.route("GET", BASE + r"/out-bill-no/(?P<no>[^/?]+)", self._query)
        self.fake.route("POST", BASE + r"/out-bill-no/(?P<no>[^/?]+)/cancel", self._cancel)
        return self

    def _error(self, status: int, code: str, message: str) -> Response:
        return self.fake.v3_json(status, {"code": code, "message": message})

    def _decrypt(self, ciphertext: str) -> str | None:
        key = serialization.load_pem_private_key(self.fake.keys.platform.private_pem.encode(), password=None)
        try:
            plain = key.decrypt(
                base64.b64decode(ciphertext),
                padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
            )
        except ValueError:
            return None
        return plain.decode("utf-8")

    # ---- WeChat's side ---------------------------------------------------------------------------------
    def _create(self, request: Request, match: re.Match) -> Response:
        try:
            data = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return self._error(400, "PARAM_ERROR", "请求体不是合法的 JSON")
        self.requests.append(data)
        problem = self._validate(request, data)
        if problem:
            return self._error(400, "PARAM_ERROR", problem)
        no = data["out_bill_no"]
        existing = self.bills.get(no)
        if existing is not None:
            if existing["transfer_amount"] != data["transfer_amount"] or existing["openid"] != data["openid"]:
                return self._error(400, "INVALID_REQUEST", "商户单号重复，请核实参数")
            if self.create_failures:
                failure = self.create_failures.pop(0)
                return self.fake.v3_json(failure.status, failure.body)
            return self.fake.v3_json(200, self._create_view(existing))
        if self.create_failures:
            failure = self.create_failures.pop(0)
            if failure.create_bill:
                self._new_bill(data)
            return self.fake.v3_json(failure.status, failure.body)
        bill = self._new_bill(data)
        return self.fake.v3_json(200, self._create_view(bill))

    def _validate(self, request: Request, data: dict) -> str:
        if data.get("appid") != self.fake.appid:
            return "appid 与商户号不匹配"
        if not OUT_BILL_NO.match(str(data.get("out_bill_no", ""))):
            return "out_bill_no 须为 5-32 位数字或字母"
        if not data.get("transfer_scene_id"):
            return "transfer_scene_id 必填"
        if not data.get("openid"):
            return "openid 必填"
        amount = data.get("transfer_amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 10:
            return "转账金额不能低于 0.1 元"
        remark = data.get("transfer_remark") or ""
        if not remark or len(remark) > 32:
            return "transfer_remark 必填且不超过 32 个字符"
        infos = data.get("transfer_scene_report_infos")
        if (
            not isinstance(infos, list)
            or not infos
            or not all(isinstance(i, dict) and i.get("info_type") and i.get("info_content") for i in infos)
        ):
            return "transfer_scene_report_infos 须按转账场景填写"
        if "user_name" in data:
            if request.headers.get("Wechatpay-Serial") != self.fake.keys.public_key_id:
                return "Wechatpay-Serial 与加密 user_name 的微信支付公钥不一致"
            name = self._decrypt(str(data["user_name"]))
            if not name:
                return "user_name 解密失败"
            data["user_name_plain"] = name
        elif amount >= 200_000:
            return "转账金额 >= 2000 元时 user_name 必填"
        return ""

    def _new_bill(self, data: dict) -> dict:
        bill = {
            "mch_id": self.fake.keys.mchid,
            "out_bill_no": data["out_bill_no"],
            "transfer_bill_no": "1330000" + "".join(secrets.choice("0123456789") for _ in range(33)),
            "appid": data["appid"],
            "state": self.initial_state,
            "transfer_amount": data["transfer_amount"],
            "transfer_remark": data["transfer_remark"],
            "openid": data["openid"],
            "user_name": data.get("user_name_plain", ""),
            "notify_url": data.get("notify_url", ""),
            "package_info": base64.b64encode(secrets.token_bytes(24)).decode(),
            "create_time": _now_text(),
            "update_time": _now_text(),
            "fail_reason": "",
        }
        self.bills[bill["out_bill_no"]] = bill
        return bill

    @staticmethod
    def _create_view(bill: dict) -> dict:
        view = {
            "out_bill_no": bill["out_bill_no"],
            "transfer_bill_no": bill["transfer_bill_no"],
            "create_time": bill["create_time"],
            "state": bill["state"],
        }
        if bill["state"] == "WAIT_USER_CONFIRM":
            view["package_info"] = bill["package_info"]
        if bill["fail_reason"]:
            view["fail_reason"] = bill["fail_reason"]
        return view

    @staticmethod
    def _query_view(bill: dict) -> dict:
        view = {
            k: bill[k]
            for k in (
                "mch_id",
                "out_bill_no",
                "transfer_bill_no",
                "appid",
                "state",
                "transfer_amount",
                "transfer_remark",
                "openid",
                "create_time",
                "update_time",
            )
        }
        if bill["fail_reason"]:
            view["fail_reason"] = bill["fail_reason"]
        return view

    def _query(self, request: Request, match: re.Match) -> Response:
        bill = self.bills.get(match["no"])
        if bill is None:
            return self._error(404, "NOT_FOUND", "记录不存在")
        return self.fake.v3_json(200, self._query_view(bill))

    def _cancel(self, request: Request, match: re.Match) -> Response:
        bill = self.bills.get(match["no"])
        if bill is None:
            return self._error(404, "NOT_FOUND", "记录不存在")
        if bill["state"] not in ("ACCEPTED", "WAIT_USER_CONFIRM"):
            return self._error(400, "INVALID_REQUEST", "当前单据状态不支持撤销")
        bill["state"], bill["update_time"] = "CANCELLED", _now_text()
        return self.fake.v3_json(
            200,
            {
                "out_bill_no": bill["out_bill_no"],
                "transfer_bill_no": bill["transfer_bill_no"],
                "state": "CANCELING",
                "update_time": bill["update_time"],
            },
        )

    # ---- test controls -----------------------------------------------------------------------------------
    def _finish(self, no: str, state: str, fail_reason: str = "") -> tuple[dict[str, str], bytes]:
        bill = self.bills[no]
        bill["state"], bill["fail_reason"], bill["update_time"] = state, fail_reason, _now_text()
        return self.notification(no)

    def notification(self, no: str, *, amount_fen: int | None = None) -> tuple[dict[str, str], bytes]:
        """The signed MCHTRANSFER.BILL.FINISHED notification of the bill's current state."""
        bill = self.bills[no]
        resource = {
            "mchid": bill["mch_id"],
            "out_bill_no": bill["out_bill_no"],
            "transfer_bill_no": bill["transfer_bill_no"],
            "state": bill["state"],
            "transfer_amount": bill["transfer_amount"] if amount_fen is None else amount_fen,
            "openid": bill["openid"],
            "create_time": bill["create_time"],
            "update_time": bill["update_time"],
        }
        if bill["fail_reason"]:
            resource["fail_reason"] = bill["fail_reason"]
        return self.fake.notification("MCHTRANSFER.BILL.FINISHED", resource)

    def confirm(self, no: str) -> tuple[dict[str, str], bytes]:
        """The payee taps 确认收款 in the mini-program: the bill succeeds."""
        return self._finish(no, "SUCCESS")

    def fail(self, no: str, reason: str = "PAYEE_ACCOUNT_ABNORMAL") -> tuple[dict[str, str], bytes]:
        return self._finish(no, "FAIL", reason)

    def close_unconfirmed(self, no: str) -> tuple[dict[str, str], bytes]:
        """WeChat closes a bill the payee did not confirm within 24 hours."""
        return self._finish(no, "CANCELLED")


def install(fake: FakeWeChat) -> FakeTransfers:
    return FakeTransfers(fake=fake).install()
