"""WeChat Pay API v3 through wechatpayv3 (public-key mode), for the four WeChat channels.

The SDK returns (status, text) and does not raise on 4xx/5xx, but does raise on network errors and
on a bad response signature: every call here turns all of that into a result or a GatewayError.
Notifications are verified by `verify_notification` (signature over the raw body, timestamp within
5 minutes, AES-GCM decryption) — the sandbox reuses it with its own demo keys.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from wechatpayv3 import WeChatPayType

from core import wechat
from core.money import yuan_to_fen
from payments.gateways import protocol, sandbox
from payments.gateways.base import (
    BillRow,
    GatewayError,
    PrepayRequest,
    RefundState,
    TradeState,
    TransferRequest,
    TransferState,
)

logger = logging.getLogger(__name__)

NOTIFICATION_MAX_SKEW_SECONDS = 300


def _pay_types() -> dict[str, Any]:
    return {
        "wechat_miniprogram": WeChatPayType.MINIPROG,
        "wechat_jsapi": WeChatPayType.JSAPI,
        "wechat_native": WeChatPayType.NATIVE,
        "wechat_h5": WeChatPayType.H5,
    }


def appid_for(channel: str) -> str:
    miniprogram_appid: str = settings.WECHAT_MINIPROGRAM_APPID
    if channel == "wechat_miniprogram":
        return miniprogram_appid
    # 公众号 (JSAPI in WeChat's browser); Native and H5 need an appid bound to the merchant too.
    mp_appid: str = settings.WECHAT_MP_APPID
    return mp_appid or miniprogram_appid


def parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _json(text: Any) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class WeChatPayGateway:
    def __init__(self, channel: str = "wechat_native"):
        self.channel = channel

    # ---- plumbing ---------------------------------------------------------------------------------
    def client(self) -> Any:
        return merchant_client(appid_for(self.channel), self.channel)

    def _call(
        self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[int, dict[str, Any], Any]:
        try:
            status, text = fn(*args, **kwargs)
        except Exception as exc:  # network errors, bad response signature: the SDK raises plain Exception
            logger.warning("wechatpay %s failed: %s", what, exc)
            raise GatewayError("network_error", str(exc)[:200], retryable=True) from exc
        return status, _json(text), text

    @staticmethod
    def _error(status: int, data: dict[str, Any]) -> GatewayError:
        return GatewayError(
            data.get("code") or f"http_{status}",
            data.get("message", ""),
            status=status,
            retryable=status >= 500 or status in (429, 0) or data.get("code") == "SYSTEM_ERROR",
        )

    # ---- payments ---------------------------------------------------------------------------------
    def prepay(self, request: PrepayRequest) -> dict[str, Any]:
        client = self.client()
        kwargs: dict[str, Any] = {
            "description": request.description[:127],
            "out_trade_no": request.out_trade_no,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
            "time_expire": timezone.localtime(request.expires_at).isoformat(timespec="seconds"),
            "appid": appid_for(self.channel),
            "pay_type": _pay_types()[self.channel],
        }
        if self.channel in ("wechat_miniprogram", "wechat_jsapi"):
            if not request.payer_openid:
                raise GatewayError("openid_required", "JSAPI 支付需要付款人 openid")
            kwargs["payer"] = {"openid": request.payer_openid}
        if self.channel == "wechat_h5":
            kwargs["scene_info"] = {
                "payer_client_ip": request.client_ip or "127.0.0.1",
                "h5_info": {"type": "Wap"},
            }
        status, data, _text = self._call("prepay", client.pay, **kwargs)
        if status != 200:
            raise self._error(status, data)
        if self.channel == "wechat_native":
            if not data.get("code_url"):
                raise GatewayError("bad_response", "no code_url")
            return {"code_url": data["code_url"]}
        if self.channel == "wechat_h5":
            if not data.get("h5_url"):
                raise GatewayError("bad_response", "no h5_url")
            return {"h5_url": data["h5_url"]}
        prepay_id = data.get("prepay_id")
        if not prepay_id:
            raise GatewayError("bad_response", "no prepay_id")
        return request_payment_params(client, appid=kwargs["appid"], prepay_id=prepay_id)

    def query(self, out_trade_no: str) -> TradeState:
        status, data, _ = self._call("query", self.client().query, out_trade_no=out_trade_no)
        if status == 404 or data.get("code") == "ORDER_NOT_EXIST":
            return TradeState(out_trade_no=out_trade_no, state="NOT_FOUND")
        if status != 200:
            raise self._error(status, data)
        return trade_state_from(data)

    def close(self, out_trade_no: str) -> str:
        status, data, _ = self._call("close", self.client().close, out_trade_no=out_trade_no)
        if status in (200, 204):
            return "closed"
        if data.get("code") == "ORDERPAID":
            return "paid"
        if status == 404 or data.get("code") == "ORDER_NOT_EXIST":
            return "closed"  # never created on WeChat's side: nothing can be paid there
        if data.get("code") == "ORDER_CLOSED":
            return "closed"
        raise self._error(status, data)

    # ---- refunds ----------------------------------------------------------------------------------
    def refund(
        self,
        *,
        out_refund_no: str,
        out_trade_no: str,
        transaction_id: str,
        amount_fen: int,
        total_fen: int,
        reason: str,
    ) -> RefundState:
        status, data, _ = self._call(
            "refund",
            self.client().refund,
            out_refund_no=out_refund_no,
            amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
            transaction_id=transaction_id or None,
            out_trade_no=None if transaction_id else out_trade_no,
            reason=(reason or "")[:80] or None,
        )
        if status != 200:
            raise self._error(status, data)
        return refund_state_from(data)

    def query_refund(self, out_refund_no: str) -> RefundState:
        status, data, _ = self._call("query_refund", self.client().query_refund, out_refund_no=out_refund_no)
        if status == 404 or data.get("code") == "RESOURCE_NOT_EXISTS":
            return RefundState(out_refund_no=out_refund_no, status="NOT_FOUND")
        if status != 200:
            raise self._error(status, data)
        return refund_state_from(data)

    def after_refund_submitted(self, out_refund_no: str) -> None:
        """WeChat notifies (and the sweep queries): nothing to do here."""

    # ---- 商家转账 (transfer-bills, user-confirmation mode) ------------------------------------------
    # The member confirms receipt in the mini-program with `package_info`; amounts are fen.
    REAL_NAME_FROM_FEN = 200_000  # WeChat requires the payee's real name from ¥2,000

    def transfer(self, request: TransferRequest) -> TransferState:
        if request.amount_fen >= self.REAL_NAME_FROM_FEN and not request.user_name:
            raise GatewayError("user_name_required", "转账金额满 2000 元须提供收款人姓名")
        if not request.openid:
            raise GatewayError("openid_required", "缺少收款用户 openid")
        status, data, _ = self._call(
            "transfer",
            self.client().mch_transfer_bills,
            out_bill_no=request.out_bill_no,
            transfer_scene_id=request.scene_id,
            openid=request.openid,
            transfer_amount=request.amount_fen,
            transfer_remark=request.remark[:32],
            user_name=request.user_name or None,  # the SDK encrypts it with WeChat's public key
            user_recv_perception=request.user_recv_perception or None,
            transfer_scene_report_infos=request.scene_report_infos,
            appid=request.appid or None,
            notify_url=request.notify_url or None,
        )
        if status != 200:
            raise self._error(status, data)
        return transfer_state_from(data, out_bill_no=request.out_bill_no)

    def query_transfer(self, out_bill_no: str) -> TransferState:
        status, data, _ = self._call(
            "query_transfer", self.client().mch_transfer_bills_query, out_bill_no=out_bill_no
        )
        if status == 404 or data.get("code") == "NOT_FOUND":
            return TransferState(out_bill_no=out_bill_no, state="NOT_FOUND")
        if status != 200:
            raise self._error(status, data)
        return transfer_state_from(data, out_bill_no=out_bill_no)

    def cancel_transfer(self, out_bill_no: str) -> TransferState:
        status, data, _ = self._call(
            "cancel_transfer", self.client().mch_transfer_bills_cancel, out_bill_no=out_bill_no
        )
        if status != 200:
            raise self._error(status, data)
        return transfer_state_from(data, out_bill_no=out_bill_no)

    def confirm_params(self, *, package_info: str, appid: str) -> dict[str, str]:
        return {"mchId": settings.WECHATPAY_MCHID, "appId": appid, "package": package_info}

    # ---- bills ------------------------------------------------------------------------------------
    def trade_bill(self, bill_date: date) -> list[BillRow]:
        client = self.client()
        status, data, _ = self._call("trade_bill", client.trade_bill, bill_date=bill_date.isoformat())
        if status != 200:
            raise self._error(status, data)
        url = data.get("download_url")
        if not url:
            raise GatewayError("bad_response", "no download_url")
        status, _data, content = self._call("download_bill", client.download_bill, url)
        if status != 200:
            raise self._error(status, _data)
        if isinstance(content, str):
            content = content.encode("utf-8")
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        return parse_trade_bill(content.decode("utf-8-sig"))


def _settings_key() -> tuple[Any, ...]:
    """Everything a client is built from: a change (or a rotated key file) builds a new client."""
    paths = (settings.WECHATPAY_PRIVATE_KEY_PATH, settings.WECHATPAY_PUBLIC_KEY_PATH)
    mtimes = tuple(os.stat(p).st_mtime_ns if p and os.path.exists(p) else 0 for p in paths)
    return (
        settings.WECHATPAY_MCHID,
        settings.WECHATPAY_APIV3_KEY,
        settings.WECHATPAY_CERT_SERIAL_NO,
        settings.WECHATPAY_PUBLIC_KEY_ID,
        settings.WECHATPAY_GATEWAY_URL,
        settings.WECHATPAY_NOTIFY_URL,
        settings.WECHAT_TIMEOUT_SECONDS,
        paths,
        mtimes,
    )


def merchant_client(appid: str, channel: str = "") -> Any:
    """A cached wechatpayv3 client: parsing the RSA keys costs tens of milliseconds per construction."""
    return _cached_client(appid, channel, _settings_key())


@lru_cache(maxsize=32)
def _cached_client(appid: str, channel: str, _key: tuple[Any, ...]) -> Any:
    return wechat.wechatpay_client(appid=appid, pay_type=_pay_types().get(channel))


def request_payment_params(client: Any, *, appid: str, prepay_id: str) -> dict[str, str]:
    """The arguments of wx.requestPayment / WeixinJSBridge getBrandWCPayRequest (RSA paySign)."""
    timestamp, nonce = str(int(time.time())), protocol.random_nonce()
    package = f"prepay_id={prepay_id}"
    return {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": client.sign([appid, timestamp, nonce, package]),
    }


def trade_state_from(data: dict[str, Any]) -> TradeState:
    amount = data.get("amount") or {}
    return TradeState(
        out_trade_no=data.get("out_trade_no", ""),
        state=data.get("trade_state", ""),
        transaction_id=data.get("transaction_id") or "",
        amount_fen=int(amount.get("total") or 0),
        paid_at=parse_time(data.get("success_time", "")),
        payer_openid=(data.get("payer") or {}).get("openid", ""),
    )


def refund_state_from(data: dict[str, Any]) -> RefundState:
    amount = data.get("amount") or {}
    return RefundState(
        out_refund_no=data.get("out_refund_no", ""),
        status=data.get("status") or data.get("refund_status") or "",
        refund_id=data.get("refund_id") or "",
        amount_fen=int(amount.get("refund") or 0),
    )


def transfer_state_from(data: dict[str, Any], *, out_bill_no: str = "") -> TransferState:
    return TransferState(
        out_bill_no=data.get("out_bill_no") or out_bill_no,
        state=data.get("state", ""),
        transfer_bill_no=data.get("transfer_bill_no") or "",
        amount_fen=int(data.get("transfer_amount") or 0),
        package_info=data.get("package_info") or "",
        fail_reason=data.get("fail_reason") or "",
        openid=data.get("openid") or "",
    )


def _bill_fen(value: str) -> int:
    value = value.strip().lstrip("`").strip()
    if not value:
        return 0
    try:
        return yuan_to_fen(Decimal(value))
    except (InvalidOperation, ValueError):
        return 0


def parse_trade_bill(text: str) -> list[BillRow]:
    """WeChat's trade bill CSV: a header row, data rows whose cells start with '`', then a summary.

    Columns used (by header name): 商户订单号, 微信订单号, 交易状态, 应结订单金额 (or 订单金额),
    退款金额 (or 申请退款金额), 商户退款单号. Amounts are in yuan.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    index = {name: i for i, name in enumerate(header)}

    def cell(row: list[str], *names: str) -> str:
        for name in names:
            if name in index and index[name] < len(row):
                return row[index[name]].strip().lstrip("`").strip()
        return ""

    rows = []
    for row in reader:
        if not row or not row[0].strip().startswith("`"):
            break  # the summary section (总交易单数, …) follows the data rows
        rows.append(
            BillRow(
                out_trade_no=cell(row, "商户订单号"),
                transaction_id=cell(row, "微信订单号"),
                trade_state=cell(row, "交易状态"),
                amount_fen=_bill_fen(cell(row, "应结订单金额", "订单金额")),
                refund_fen=_bill_fen(cell(row, "退款金额", "申请退款金额")),
                out_refund_no=cell(row, "商户退款单号"),
            )
        )
    return rows


# ---- inbound notifications -----------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedNotification:
    id: str
    event_type: str
    resource: dict[str, Any]
    source: str  # "wechatpay" or "sandbox"


class NotificationRejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def header(meta: Mapping[str, Any], name: str) -> str:
    """A request header from Django's META (HTTP_WECHATPAY_SERIAL) or plain names."""
    key = "HTTP_" + name.upper().replace("-", "_")
    value: str = meta.get(key) or meta.get(name) or ""
    return value


def _verifier_client(serial: str) -> tuple[Any, str]:
    """The wechatpayv3 client whose platform key matches the notification's serial, or None."""
    if serial and wechat.wechatpay_configured() and serial == settings.WECHATPAY_PUBLIC_KEY_ID:
        return merchant_client(settings.WECHAT_MINIPROGRAM_APPID), "wechatpay"
    if settings.PAYMENTS_SANDBOX_ENABLED:
        keys = sandbox.sandbox_keys()
        if serial == keys.public_key_id:
            return sandbox.sandbox_client(keys), "sandbox"
    return None, ""


def verify_notification(
    *, meta: Mapping[str, Any], body: bytes, now: float | None = None
) -> VerifiedNotification:
    """Signature over the raw body, timestamp skew ≤ 5 minutes, AES-GCM decryption — or raise."""
    serial = header(meta, "Wechatpay-Serial")
    timestamp = header(meta, "Wechatpay-Timestamp")
    if not header(meta, "Wechatpay-Signature") or not timestamp:
        raise NotificationRejected("missing_signature", "缺少签名头")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise NotificationRejected("bad_timestamp", "时间戳格式错误") from None
    if skew > NOTIFICATION_MAX_SKEW_SECONDS:
        raise NotificationRejected("stale_timestamp", "通知时间戳超过5分钟")
    client, source = _verifier_client(serial)
    if client is None:
        # An unknown serial would make the SDK download certificates: refuse before calling it.
        raise NotificationRejected("unknown_serial", "未知的平台公钥")
    # The SDK reads either Django META names or the plain header names; give it plain ones.
    headers = {
        "Wechatpay-Signature": header(meta, "Wechatpay-Signature"),
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": header(meta, "Wechatpay-Nonce"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": header(meta, "Wechatpay-Signature-Type") or protocol.SIGNATURE_TYPE,
    }
    try:
        text = body.decode("utf-8")
        data = client.callback(headers, text)
    except Exception as exc:  # bad JSON after a valid signature, bad AES tag, bad algorithm
        raise NotificationRejected("undecryptable", f"无法解析通知: {type(exc).__name__}") from exc
    if not data:
        raise NotificationRejected("bad_signature", "签名验证或解密失败")
    resource = data.get("resource")
    if not isinstance(resource, dict) or not data.get("id"):
        raise NotificationRejected("malformed", "通知内容不完整")
    return VerifiedNotification(
        id=str(data["id"])[:64],
        event_type=str(data.get("event_type", ""))[:32],
        resource=resource,
        source=source,
    )
