"""A fake WeChat that speaks the real protocols, served by pytest-httpserver.

- api.weixin.qq.com side: `cgi-bin/token`, `cgi-bin/stable_token`, `sns/jscode2session` (and any
  route a test adds with `fake.route`).
- WeChat Pay v3 side: every `/v3/...` request must carry a valid merchant `Authorization` signature
  (else 401 SIGN_ERROR, as WeChat answers); responses are signed with the platform key, so the
  wechatpayv3 SDK verifies them exactly as it would in production.

Tests drive WeChat's behaviour through the state here: `fake.sessions[code] = {...}`,
`fake.pay(out_trade_no)` to make a payment succeed and get its signed notification, and so on.
Later issues extend it with more routes (`fake.route(...)`) rather than copying it.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from werkzeug import Request, Response

from payments.gateways import protocol


@dataclass
class WeChatPayKeys:
    """Merchant and platform key material for one test session (written to PEM files)."""

    merchant: protocol.KeyPair
    platform: protocol.KeyPair
    mchid: str = "1900000001"
    serial_no: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    public_key_id: str = "PUB_KEY_ID_0114232134912410000000000000"
    apiv3_key: str = "0123456789abcdefghijklmnopqrstuv"  # 32 bytes, as AES-256 needs
    directory: Path | None = None

    @classmethod
    def generate(cls, directory: Path) -> WeChatPayKeys:
        keys = cls(
            merchant=protocol.generate_keypair(), platform=protocol.generate_keypair(), directory=directory
        )
        (directory / "merchant_private.pem").write_text(keys.merchant.private_pem)
        (directory / "platform_public.pem").write_text(keys.platform.public_pem)
        return keys

    def settings_overrides(self) -> dict[str, str]:
        assert self.directory is not None
        return {
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_PRIVATE_KEY_PATH": str(self.directory / "merchant_private.pem"),
            "WECHATPAY_CERT_SERIAL_NO": self.serial_no,
            "WECHATPAY_PUBLIC_KEY_PATH": str(self.directory / "platform_public.pem"),
            "WECHATPAY_PUBLIC_KEY_ID": self.public_key_id,
        }


Handler = Callable[[Request, re.Match], Response]


@dataclass
class FakeWeChat:
    httpserver: object
    keys: WeChatPayKeys
    appid: str = "wx_test_miniprogram"
    secret: str = "test-secret"
    access_token: str = field(default_factory=lambda: "ACCESS_" + secrets.token_hex(8))
    # js_code -> {"openid", "session_key", "unionid"?} or {"errcode", "errmsg"}
    sessions: dict[str, dict] = field(default_factory=dict)
    transactions: dict[str, dict] = field(default_factory=dict)  # out_trade_no -> transaction
    refunds: dict[str, dict] = field(default_factory=dict)  # out_refund_no -> refund
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    # Set to make the next v3 call(s) fail: list of (status, json body) popped per request.
    pay_failures: list[tuple[int, dict]] = field(default_factory=list)
    refund_status_on_create: str = "PROCESSING"
    # Extra/overriding trade-bill rows (dicts with the BILL_COLUMNS names), for reconciliation tests.
    extra_bill_rows: list[dict] = field(default_factory=list)
    _routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)
    _bill_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.httpserver.url_for("/").rstrip("/")

    # ---- wiring ---------------------------------------------------------------------------------
    def install(self) -> None:
        self.httpserver.expect_request(re.compile(r"^/.*$")).respond_with_handler(self._dispatch)
        self.route("GET", r"/cgi-bin/token", self._token)
        self.route("POST", r"/cgi-bin/stable_token", self._token)
        self.route("GET", r"/sns/jscode2session", self._jscode2session)
        self.route("POST", r"/v3/pay/transactions/(?P<kind>jsapi|native|h5)", self._pay_create)
        self.route("GET", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/?]+)", self._pay_query)
        self.route("POST", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/?]+)/close", self._pay_close)
        self.route("POST", r"/v3/refund/domestic/refunds", self._refund_create)
        self.route("GET", r"/v3/refund/domestic/refunds/(?P<no>[^/?]+)", self._refund_query)
        self.route("GET", r"/v3/bill/tradebill", self._trade_bill)
        self.route("GET", r"/v3/billdownload/file", self._bill_download)

    def route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Add (or override: later routes win) a handler for METHOD path."""
        self._routes.insert(0, (method, re.compile(path_regex + r"$"), handler))

    def _dispatch(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                if request.path.startswith("/v3/"):
                    if not self._merchant_signature_ok(request):
                        return self.v3_json(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                    if self.pay_failures:
                        status, body = self.pay_failures.pop(0)
                        return self.v3_json(status, body)
                return handler(request, match)
        return Response(
            json.dumps({"errcode": 404, "errmsg": f"no fake route {request.path}"}),
            status=404,
            content_type="application/json",
        )

    # ---- helpers for handlers ----------------------------------------------------------------------
    def _merchant_signature_ok(self, request: Request) -> bool:
        path_with_query = request.full_path.rstrip("?") if request.query_string else request.path
        return protocol.verify_authorization(
            header=request.headers.get("Authorization", ""),
            method=request.method,
            path_with_query=path_with_query,
            body=request.get_data(as_text=True),
            merchant_public_pem=self.keys.merchant.public_pem,
        )

    def v3_json(self, status: int, payload: dict | None) -> Response:
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False)
        headers = protocol.signed_headers(
            body=body,
            platform_private_pem=self.keys.platform.private_pem,
            public_key_id=self.keys.public_key_id,
        )
        return Response(body, status=status, headers=headers, content_type="application/json")

    @staticmethod
    def wx_json(payload: dict) -> Response:
        return Response(json.dumps(payload, ensure_ascii=False), content_type="application/json")

    # ---- api.weixin.qq.com ------------------------------------------------------------------------
    def _token(self, request: Request, match: re.Match) -> Response:
        return self.wx_json({"access_token": self.access_token, "expires_in": 7200})

    def _jscode2session(self, request: Request, match: re.Match) -> Response:
        args = request.args
        if args.get("appid") != self.appid or args.get("secret") != self.secret:
            return self.wx_json({"errcode": 40125, "errmsg": "invalid appsecret"})
        session = self.sessions.pop(args.get("js_code", ""), None)  # a code is single-use
        if session is None:
            return self.wx_json({"errcode": 40029, "errmsg": "invalid code"})
        return self.wx_json(session)

    def login_code(self, *, openid: str | None = None, unionid: str | None = None) -> str:
        """Register a fresh wx.login code and return it."""
        code = "code_" + secrets.token_hex(6)
        session = {"openid": openid or "o" + secrets.token_hex(14), "session_key": secrets.token_hex(12)}
        if unionid:
            session["unionid"] = unionid
        self.sessions[code] = session
        return code

    # ---- WeChat Pay v3 -----------------------------------------------------------------------------
    def _pay_create(self, request: Request, match: re.Match) -> Response:
        data = json.loads(request.get_data(as_text=True) or "{}")
        no = data.get("out_trade_no", "")
        if no in self.transactions and self.transactions[no]["trade_state"] == "SUCCESS":
            return self.v3_json(400, {"code": "ORDERPAID", "message": "该订单已支付"})
        prepay_id = "wx" + uuid.uuid4().hex
        self.transactions[no] = {
            "appid": data.get("appid"),
            "mchid": data.get("mchid"),
            "out_trade_no": no,
            "transaction_id": "",
            "trade_type": match["kind"].upper(),
            "trade_state": "NOTPAY",
            "trade_state_desc": "未支付",
            "description": data.get("description", ""),
            "amount": {"total": data["amount"]["total"], "currency": "CNY"},
            "payer": data.get("payer", {}),
            "created": time.time(),
            "prepay_id": prepay_id,
        }
        if match["kind"] == "native":
            return self.v3_json(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"})
        if match["kind"] == "h5":
            return self.v3_json(
                200, {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}"}
            )
        return self.v3_json(200, {"prepay_id": prepay_id})

    def _transaction_view(self, trx: dict) -> dict:
        view = {k: v for k, v in trx.items() if k not in ("created", "prepay_id")}
        if trx["trade_state"] == "SUCCESS":
            view["amount"] = {**trx["amount"], "payer_total": trx["amount"]["total"], "payer_currency": "CNY"}
        return view

    def _pay_query(self, request: Request, match: re.Match) -> Response:
        trx = self.transactions.get(match["no"])
        if trx is None:
            return self.v3_json(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        return self.v3_json(200, self._transaction_view(trx))

    def _pay_close(self, request: Request, match: re.Match) -> Response:
        trx = self.transactions.get(match["no"])
        if trx is None:
            return self.v3_json(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if trx["trade_state"] == "SUCCESS":
            return self.v3_json(400, {"code": "ORDERPAID", "message": "订单已支付"})
        trx["trade_state"], trx["trade_state_desc"] = "CLOSED", "已关闭"
        return self.v3_json(204, None)

    def pay(
        self,
        out_trade_no: str,
        *,
        amount_fen: int | None = None,
        timestamp: int | None = None,
        notification_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The payer pays: mark the transaction SUCCESS and return its signed notification."""
        trx = self.transactions[out_trade_no]
        trx["trade_state"], trx["trade_state_desc"] = "SUCCESS", "支付成功"
        trx["transaction_id"] = trx["transaction_id"] or "4200" + secrets.token_hex(12)
        trx["success_time"] = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
        resource = self._transaction_view(trx)
        if amount_fen is not None:  # a tampered/different amount, for negative tests
            resource["amount"] = {**resource["amount"], "total": amount_fen, "payer_total": amount_fen}
        return self.notification(
            "TRANSACTION.SUCCESS", resource, timestamp=timestamp, notification_id=notification_id
        )

    def notification(
        self,
        event_type: str,
        resource: dict,
        *,
        timestamp: int | None = None,
        notification_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        return protocol.build_notification(
            event_type=event_type,
            resource=resource,
            apiv3_key=self.keys.apiv3_key,
            platform_private_pem=self.keys.platform.private_pem,
            public_key_id=self.keys.public_key_id,
            timestamp=timestamp,
            notification_id=notification_id,
        )

    def _refund_create(self, request: Request, match: re.Match) -> Response:
        data = json.loads(request.get_data(as_text=True) or "{}")
        no = data["out_refund_no"]
        if no in self.refunds:  # WeChat treats a retry with the same out_refund_no as the same refund
            return self.v3_json(200, self.refunds[no])
        trx = self.transactions.get(data.get("out_trade_no", ""))
        if trx is None and data.get("transaction_id"):  # WeChat accepts either identifier
            trx = next(
                (t for t in self.transactions.values() if t["transaction_id"] == data["transaction_id"]), None
            )
        if trx is None or trx["trade_state"] not in ("SUCCESS", "REFUND"):
            return self.v3_json(400, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在或未支付"})
        already = sum(
            r["amount"]["refund"]
            for r in self.refunds.values()
            if r["out_trade_no"] == trx["out_trade_no"] and r["status"] != "CLOSED"
        )
        if already + data["amount"]["refund"] > trx["amount"]["total"]:
            return self.v3_json(400, {"code": "INVALID_REQUEST", "message": "退款金额超过订单金额"})
        refund = {
            "refund_id": "5030" + secrets.token_hex(12),
            "out_refund_no": no,
            "transaction_id": trx["transaction_id"],
            "out_trade_no": trx["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "status": self.refund_status_on_create,
            "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600)),
            "amount": {
                "total": data["amount"]["total"],
                "refund": data["amount"]["refund"],
                "payer_total": data["amount"]["total"],
                "payer_refund": data["amount"]["refund"],
                "currency": "CNY",
            },
        }
        self.refunds[no] = refund
        trx["trade_state"] = "REFUND"
        return self.v3_json(200, refund)

    def _refund_query(self, request: Request, match: re.Match) -> Response:
        refund = self.refunds.get(match["no"])
        if refund is None:
            return self.v3_json(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
        return self.v3_json(200, refund)

    def complete_refund(
        self, out_refund_no: str, *, status: str = "SUCCESS", timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """WeChat finishes a refund: update it and return the signed REFUND.* notification."""
        refund = self.refunds[out_refund_no]
        refund["status"] = status
        if status == "SUCCESS":
            refund["success_time"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600)
            )
        resource = {
            "mchid": self.keys.mchid,
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": status,
            "success_time": refund.get("success_time", ""),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": refund["amount"]["total"],
                "refund": refund["amount"]["refund"],
                "payer_total": refund["amount"]["total"],
                "payer_refund": refund["amount"]["refund"],
            },
        }
        event = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}[
            status
        ]
        return self.notification(event, resource, timestamp=timestamp)

    # ---- bills ---------------------------------------------------------------------------------------
    def bill_rows(self, bill_date: str) -> list[dict]:
        """The day's trade bill as WeChat would list it: successful payments and refunds, then extras."""
        rows = []
        for trx in self.transactions.values():
            if trx["trade_state"] not in ("SUCCESS", "REFUND") or not trx.get("success_time", "").startswith(
                bill_date
            ):
                continue
            rows.append(
                {
                    "交易时间": trx["success_time"][:19].replace("T", " "),
                    "微信订单号": trx["transaction_id"],
                    "商户订单号": trx["out_trade_no"],
                    "交易类型": trx["trade_type"],
                    "交易状态": "SUCCESS",
                    "应结订单金额": f"{trx['amount']['total'] / 100:.2f}",
                    "订单金额": f"{trx['amount']['total'] / 100:.2f}",
                }
            )
        for refund in self.refunds.values():
            if refund["status"] != "SUCCESS" or not refund.get("success_time", "").startswith(bill_date):
                continue
            rows.append(
                {
                    "交易时间": refund["success_time"][:19].replace("T", " "),
                    "微信订单号": refund["transaction_id"],
                    "商户订单号": refund["out_trade_no"],
                    "交易状态": "REFUND",
                    "微信退款单号": refund["refund_id"],
                    "商户退款单号": refund["out_refund_no"],
                    "退款金额": f"{refund['amount']['refund'] / 100:.2f}",
                    "申请退款金额": f"{refund['amount']['refund'] / 100:.2f}",
                    "应结订单金额": "0.00",
                }
            )
        return rows + self.extra_bill_rows

    def bill_csv(self, bill_date: str) -> str:
        rows = self.bill_rows(bill_date)
        lines = [",".join(BILL_COLUMNS)]
        for row in rows:
            lines.append(",".join("`" + str(row.get(column, "")) for column in BILL_COLUMNS))
        total = sum(float(r.get("应结订单金额") or 0) for r in rows)
        lines.append(
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
        )
        lines.append(f"`{len(rows)},`{total:.2f},`0.00,`0.00,`0.00,`{total:.2f},`0.00")
        return "\n".join(lines) + "\n"

    def _trade_bill(self, request: Request, match: re.Match) -> Response:
        args = query_args(request)
        bill_date = args.get("bill_date", "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", bill_date):
            return self.v3_json(400, {"code": "PARAM_ERROR", "message": "bill_date 格式错误"})
        token = secrets.token_hex(8)
        self._bill_tokens[token] = (bill_date, args.get("tar_type", ""))
        return self.v3_json(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": "",
                "download_url": f"{self.url}/v3/billdownload/file?token={token}",
            },
        )

    def _bill_download(self, request: Request, match: re.Match) -> Response:
        token = query_args(request).get("token", "")
        if token not in self._bill_tokens:
            return self.v3_json(400, {"code": "INVALID_REQUEST", "message": "token 无效"})
        bill_date, tar_type = self._bill_tokens[token]
        content = self.bill_csv(bill_date).encode("utf-8")
        if tar_type == "GZIP":
            content = gzip.compress(content)
        return Response(content, status=200, content_type="application/octet-stream")


BILL_COLUMNS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
).split(",")


def query_args(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.query_string.decode()).items()}
