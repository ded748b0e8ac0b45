"""Sandbox channel: plays WeChat Pay's part for development and the demo (refused in production).

Demo merchant/platform keys are generated once into settings.PAYMENTS_SANDBOX_KEY_DIR. The cashier
page (`/payments/sandbox/<out_trade_no>/`, payments/sandbox/) calls `sandbox_pay`, which signs a
real v3 notification with the demo platform key (`protocol.build_notification`) and hands it to the
real notification service (no HTTP, no view), so the demo runs exactly the verification and fulfilment code production runs. Refunds complete the
same way, with a REFUND.SUCCESS notification.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.wechat import wechatpay_client
from payments.gateways import protocol
from payments.gateways.base import (
    GatewayError,
    PrepayRequest,
    RefundState,
    TradeState,
    TransferRequest,
    TransferState,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxKeys:
    merchant: protocol.KeyPair
    platform: protocol.KeyPair
    mchid: str
    serial_no: str
    public_key_id: str
    apiv3_key: str
    appid: str = "wx_sandbox_app"


def _key_dir() -> Path:
    return Path(settings.PAYMENTS_SANDBOX_KEY_DIR)


def _generate_into(directory: Path) -> None:
    merchant, platform = protocol.generate_keypair(), protocol.generate_keypair()
    (directory / "merchant_private.pem").write_text(merchant.private_pem)
    (directory / "merchant_public.pem").write_text(merchant.public_pem)
    (directory / "platform_private.pem").write_text(platform.private_pem)
    (directory / "platform_public.pem").write_text(platform.public_pem)
    (directory / "config.json").write_text(
        json.dumps(
            {
                "mchid": "1900000000",
                "serial_no": secrets.token_hex(20).upper(),
                "public_key_id": "PUB_KEY_ID_SANDBOX_" + secrets.token_hex(8).upper(),
                "apiv3_key": protocol.random_nonce(32),
            }
        )
    )


def ensure_sandbox_keys() -> Path:
    """Generate the demo keys once (atomically: concurrent processes agree on one set)."""
    directory = _key_dir()
    if (directory / "config.json").exists():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sandbox_keys-", dir=directory.parent))
    try:
        _generate_into(staging)
        try:
            os.rename(staging, directory)  # fails if another process won the race
        except OSError:
            if not (directory / "config.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


@lru_cache(maxsize=4)
def _load_keys(directory: str) -> SandboxKeys:
    path = Path(directory)
    config = json.loads((path / "config.json").read_text())
    return SandboxKeys(
        merchant=protocol.KeyPair(
            (path / "merchant_private.pem").read_text(), (path / "merchant_public.pem").read_text()
        ),
        platform=protocol.KeyPair(
            (path / "platform_private.pem").read_text(), (path / "platform_public.pem").read_text()
        ),
        mchid=config["mchid"],
        serial_no=config["serial_no"],
        public_key_id=config["public_key_id"],
        apiv3_key=config["apiv3_key"],
    )


def sandbox_keys() -> SandboxKeys:
    return _load_keys(str(ensure_sandbox_keys()))


def sandbox_client(keys: SandboxKeys | None = None) -> Any:
    """A wechatpayv3 client holding the demo keys: verifies sandbox notifications like production."""
    return _sandbox_client(keys or sandbox_keys())


@lru_cache(maxsize=4)
def _sandbox_client(keys: SandboxKeys) -> Any:
    return wechatpay_client(
        appid=keys.appid,
        mchid=keys.mchid,
        private_key_pem=keys.merchant.private_pem,
        public_key_pem=keys.platform.public_pem,
        public_key_id=keys.public_key_id,
        apiv3_key=keys.apiv3_key,
        cert_serial_no=keys.serial_no,
    )


def require_enabled() -> None:
    if not settings.PAYMENTS_SANDBOX_ENABLED:
        raise GatewayError("sandbox_disabled", "沙箱支付未启用")


def _now_text() -> str:
    return timezone.localtime().isoformat(timespec="seconds")


class SandboxGateway:
    channel = "sandbox"

    def prepay(self, request: PrepayRequest) -> dict[str, Any]:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTrade

        require_enabled()
        SandboxTrade.objects.get_or_create(
            out_trade_no=request.out_trade_no, defaults={"amount_fen": request.amount_fen}
        )
        return {"cashier_url": reverse("payments:sandbox_cashier", args=[request.out_trade_no])}

    def query(self, out_trade_no: str) -> TradeState:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTrade

        require_enabled()
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return TradeState(out_trade_no=out_trade_no, state="NOT_FOUND")
        return TradeState(
            out_trade_no=out_trade_no,
            state=trade.trade_state,
            transaction_id=trade.transaction_id,
            amount_fen=trade.amount_fen,
            paid_at=trade.updated_at if trade.trade_state in ("SUCCESS", "REFUND") else None,
        )

    def close(self, out_trade_no: str) -> str:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTrade

        require_enabled()
        # Conditional update: a payment racing the close wins or loses atomically, like WeChat.
        closed = SandboxTrade.objects.filter(out_trade_no=out_trade_no, trade_state="NOTPAY").update(
            trade_state="CLOSED"
        )
        if closed:
            return "closed"
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is not None and trade.trade_state in ("SUCCESS", "REFUND"):
            return "paid"
        return "closed"

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
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTrade

        require_enabled()
        with transaction.atomic():
            trade = SandboxTrade.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
            if trade is None or trade.trade_state not in ("SUCCESS", "REFUND"):
                raise GatewayError("RESOURCE_NOT_EXISTS", "订单不存在或未支付", status=400)
            existing = trade.refunds.get(out_refund_no)
            if existing is None:  # a retry with the same out_refund_no is the same refund
                already = sum(r["amount"] for r in trade.refunds.values() if r["status"] != "CLOSED")
                if already + amount_fen > trade.amount_fen:
                    raise GatewayError("INVALID_REQUEST", "退款金额超过订单金额", status=400)
                existing = {
                    "refund_id": "SBR" + secrets.token_hex(10),
                    "amount": amount_fen,
                    "status": "PROCESSING",
                }
                trade.refunds = {**trade.refunds, out_refund_no: existing}
                trade.trade_state = "REFUND"
                trade.save(update_fields=["refunds", "trade_state", "updated_at"])
        return RefundState(
            out_refund_no=out_refund_no,
            status=existing["status"],
            refund_id=existing["refund_id"],
            amount_fen=existing["amount"],
        )

    def query_refund(self, out_refund_no: str) -> RefundState:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTrade

        require_enabled()
        for trade in SandboxTrade.objects.filter(refunds__has_key=out_refund_no):
            item = trade.refunds[out_refund_no]
            return RefundState(out_refund_no, item["status"], item["refund_id"], item["amount"])
        return RefundState(out_refund_no=out_refund_no, status="NOT_FOUND")

    def after_refund_submitted(self, out_refund_no: str) -> None:
        """The sandbox 'bank' finishes the refund at once and notifies, after the caller commits."""
        transaction.on_commit(lambda: sandbox_complete_refund(out_refund_no))

    # ---- 商家转账: the sandbox plays WeChat's transfer bills (the member confirms on the wallet page)
    def transfer(self, request: TransferRequest) -> TransferState:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTransfer

        require_enabled()
        if request.amount_fen < 10:
            raise GatewayError("PARAM_ERROR", "转账金额不能低于 0.1 元", status=400)
        bill, created = SandboxTransfer.objects.get_or_create(
            out_bill_no=request.out_bill_no,
            defaults={
                "transfer_bill_no": "SBT" + secrets.token_hex(12).upper(),
                "amount_fen": request.amount_fen,
                "openid": request.openid,
            },
        )
        if not created and bill.amount_fen != request.amount_fen:
            raise GatewayError("INVALID_REQUEST", "商户单号重复，参数不一致", status=400)
        return _transfer_state(bill)

    def query_transfer(self, out_bill_no: str) -> TransferState:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTransfer

        require_enabled()
        bill = SandboxTransfer.objects.filter(out_bill_no=out_bill_no).first()
        if bill is None:
            return TransferState(out_bill_no=out_bill_no, state="NOT_FOUND")
        return _transfer_state(bill)

    def cancel_transfer(self, out_bill_no: str) -> TransferState:
        # the app registry may not be ready: bench tools import payments.gateways bare
        from payments.models import SandboxTransfer

        require_enabled()
        cancelled = SandboxTransfer.objects.filter(
            out_bill_no=out_bill_no, state__in=["ACCEPTED", "WAIT_USER_CONFIRM"]
        ).update(state="CANCELLED", updated_at=timezone.now())
        bill = SandboxTransfer.objects.filter(out_bill_no=out_bill_no).first()
        if bill is None:
            raise GatewayError("NOT_FOUND", "转账单不存在", status=404)
        if not cancelled:
            raise GatewayError("INVALID_REQUEST", "当前转账单状态不支持撤销", status=400)
        return TransferState(
            out_bill_no=out_bill_no, state="CANCELING", transfer_bill_no=bill.transfer_bill_no
        )

    def confirm_params(self, *, package_info: str, appid: str) -> dict[str, str]:
        keys = sandbox_keys()
        return {"mchId": keys.mchid, "appId": appid or keys.appid, "package": package_info}


def _transfer_state(bill: Any) -> TransferState:
    """A SandboxTransfer row as the gateway's TransferState."""
    return TransferState(
        out_bill_no=bill.out_bill_no,
        state=bill.state,
        transfer_bill_no=bill.transfer_bill_no,
        amount_fen=bill.amount_fen,
        package_info=f"sandbox_package_{bill.transfer_bill_no}" if bill.state == "WAIT_USER_CONFIRM" else "",
        fail_reason=bill.fail_reason,
        openid=bill.openid,
    )


# ---- WeChat's side: pay, refund, notify ---------------------------------------------------------


def _deliver(headers: dict[str, str], body: bytes) -> int:
    """Hand a signed payment or refund notification to the service WeChat's callbacks reach (the
    notify view's `notification_handle`), in-process; returns the HTTP status the view would answer."""
    # cycle: payments.orders.notifications -> payments.gateways (gateway_for) -> this module
    from payments.orders.notifications import notification_handle

    return notification_handle(body=body, meta=_notification_meta(headers), remote_addr="127.0.0.1").status


def _notification_meta(headers: dict[str, str]) -> dict[str, str]:
    """The request META a notification POST would carry (what the notify views read)."""
    return {
        **protocol.django_meta_headers(headers),
        "CONTENT_TYPE": "application/json",
        "REMOTE_ADDR": "127.0.0.1",
    }


def _notify(event_type: str, resource: dict[str, Any]) -> int:
    keys = sandbox_keys()
    headers, body = protocol.build_notification(
        event_type=event_type,
        resource=resource,
        apiv3_key=keys.apiv3_key,
        platform_private_pem=keys.platform.private_pem,
        public_key_id=keys.public_key_id,
    )
    return _deliver(headers, body)


def sandbox_pay(out_trade_no: str, *, payer_openid: str = "") -> int:
    """The buyer confirms in the sandbox cashier: mark paid on 'WeChat's side', then notify."""
    # the app registry may not be ready: bench tools import payments.gateways bare
    from payments.models import SandboxTrade

    require_enabled()
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if trade is None:
            raise GatewayError("ORDER_NOT_EXIST", "订单不存在", status=404)
        if trade.trade_state == "CLOSED":
            raise GatewayError("ORDER_CLOSED", "订单已关闭", status=400)
        if trade.trade_state == "NOTPAY":
            trade.trade_state = "SUCCESS"
            trade.transaction_id = "SB" + timezone.localtime().strftime("%Y%m%d") + secrets.token_hex(10)
            trade.save(update_fields=["trade_state", "transaction_id", "updated_at"])
    resource = {
        "mchid": sandbox_keys().mchid,
        "appid": sandbox_keys().appid,
        "out_trade_no": out_trade_no,
        "transaction_id": trade.transaction_id,
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "success_time": _now_text(),
        "payer": {"openid": payer_openid or "o_sandbox_payer"},
        "amount": {"total": trade.amount_fen, "payer_total": trade.amount_fen, "currency": "CNY"},
    }
    return _notify("TRANSACTION.SUCCESS", resource)


def sandbox_complete_refund(out_refund_no: str, *, status: str = "SUCCESS") -> int:
    # the app registry may not be ready: bench tools import payments.gateways bare
    from payments.models import SandboxTrade

    if not settings.PAYMENTS_SANDBOX_ENABLED:
        return 0
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().filter(refunds__has_key=out_refund_no).first()
        if trade is None:
            return 0
        item = {**trade.refunds[out_refund_no], "status": status}
        trade.refunds = {**trade.refunds, out_refund_no: item}
        trade.save(update_fields=["refunds", "updated_at"])
    resource = {
        "mchid": sandbox_keys().mchid,
        "out_trade_no": trade.out_trade_no,
        "transaction_id": trade.transaction_id,
        "out_refund_no": out_refund_no,
        "refund_id": item["refund_id"],
        "refund_status": status,
        "success_time": _now_text() if status == "SUCCESS" else "",
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": trade.amount_fen,
            "refund": item["amount"],
            "payer_total": trade.amount_fen,
            "payer_refund": item["amount"],
        },
    }
    event = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}[status]
    return _notify(event, resource)


def sandbox_finish_transfer(out_bill_no: str, *, state: str = "SUCCESS", fail_reason: str = "") -> int:
    """The payee confirms receipt (SUCCESS) — or the bill fails — on 'WeChat's side', then WeChat's
    MCHTRANSFER.BILL.FINISHED notification is signed and posted to the real transfer notify view."""
    # the app registry may not be ready: bench tools import payments.gateways bare
    from payments.models import SandboxTransfer

    require_enabled()
    with transaction.atomic():
        bill = SandboxTransfer.objects.select_for_update().filter(out_bill_no=out_bill_no).first()
        if bill is None:
            raise GatewayError("NOT_FOUND", "转账单不存在", status=404)
        if bill.state not in ("SUCCESS", "FAIL", "CANCELLED"):
            bill.state, bill.fail_reason = state, fail_reason
            bill.save(update_fields=["state", "fail_reason", "updated_at"])
    keys = sandbox_keys()
    resource = {
        "mchid": keys.mchid,
        "out_bill_no": bill.out_bill_no,
        "transfer_bill_no": bill.transfer_bill_no,
        "state": bill.state,
        "transfer_amount": bill.amount_fen,
        "openid": bill.openid,
        "fail_reason": bill.fail_reason,
        "create_time": timezone.localtime(bill.created_at).isoformat(timespec="seconds"),
        "update_time": _now_text(),
    }
    headers, body = protocol.build_notification(
        event_type="MCHTRANSFER.BILL.FINISHED",
        resource=resource,
        apiv3_key=keys.apiv3_key,
        platform_private_pem=keys.platform.private_pem,
        public_key_id=keys.public_key_id,
    )
    return _deliver_transfer(headers, body)


def _deliver_transfer(headers: dict[str, str], body: bytes) -> int:
    """Hand a signed transfer notification to the transfer notification service, in-process."""
    # cycle: payments.withdrawals -> payments.gateways (transfer_gateway_for) -> this module
    from payments.wallet.withdrawal_payouts import transfer_notification_handle

    answer = transfer_notification_handle(
        body=body, meta=_notification_meta(headers), remote_addr="127.0.0.1"
    )
    return answer.status
