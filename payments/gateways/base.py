"""The contract every payment gateway implements (WeChat Pay v3 and the sandbox).

Gateways talk to the payment provider and nothing else: they never touch the database rows of an
order (services do, before and after the call, in short transactions). Every method either returns
a result or raises GatewayError; `retryable` says whether the same call may simply be repeated
(network errors, 5xx) or needs a human / a different action (4xx business errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class GatewayError(Exception):
    def __init__(self, code: str, message: str = "", *, status: int = 0, retryable: bool = False):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class PrepayRequest:
    out_trade_no: str
    amount_fen: int
    description: str
    expires_at: datetime
    payer_openid: str = ""
    client_ip: str = ""


@dataclass(frozen=True)
class TradeState:
    """The provider's view of one payment attempt."""

    out_trade_no: str
    state: str  # SUCCESS, NOTPAY, CLOSED, REFUND, USERPAYING, PAYERROR, NOT_FOUND
    transaction_id: str = ""
    amount_fen: int = 0
    paid_at: datetime | None = None
    payer_openid: str = ""

    @property
    def paid(self) -> bool:
        return self.state in ("SUCCESS", "REFUND")


@dataclass(frozen=True)
class RefundState:
    out_refund_no: str
    status: str  # PROCESSING, SUCCESS, CLOSED, ABNORMAL, NOT_FOUND
    refund_id: str = ""
    amount_fen: int = 0


@dataclass(frozen=True)
class BillRow:
    """One line of a daily trade bill (amounts converted from yuan to fen)."""

    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount_fen: int
    refund_fen: int = 0
    out_refund_no: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransferRequest:
    """One 商家转账 bill (transfer-bills, the member confirms receipt). Amount in fen."""

    out_bill_no: str
    amount_fen: int
    openid: str
    appid: str
    remark: str
    scene_id: str
    scene_report_infos: list[dict[str, str]] = field(default_factory=list)
    user_name: str = ""  # required by WeChat from ¥2,000; encrypted on the wire by the SDK
    user_recv_perception: str = ""
    notify_url: str = ""


# Bill states at WeChat: ACCEPTED → PROCESSING → WAIT_USER_CONFIRM → TRANSFERING → SUCCESS, or FAIL,
# or CANCELING → CANCELLED (cancelled by us, or closed by WeChat 24 h after an unconfirmed bill).
TRANSFER_FINAL_STATES = ("SUCCESS", "FAIL", "CANCELLED")


@dataclass(frozen=True)
class TransferState:
    out_bill_no: str
    state: str  # the states above, or NOT_FOUND
    transfer_bill_no: str = ""
    amount_fen: int = 0
    package_info: str = ""
    fail_reason: str = ""
    openid: str = ""

    @property
    def final(self) -> bool:
        return self.state in TRANSFER_FINAL_STATES


class TransferGateway(Protocol):
    """Payouts to a member's WeChat balance (商家转账, user-confirmation mode)."""

    def transfer(self, request: TransferRequest) -> TransferState:
        """Create (or, with the same out_bill_no, look up) the bill. Non-200 raises GatewayError."""

    def query_transfer(self, out_bill_no: str) -> TransferState:
        """The bill's state; `NOT_FOUND` when WeChat has no bill with this number."""

    def cancel_transfer(self, out_bill_no: str) -> TransferState:
        """Ask WeChat to cancel an unconfirmed bill (answer: CANCELING; query for the end state)."""

    def confirm_params(self, *, package_info: str, appid: str) -> dict[str, str]:
        """What the mini-program passes to wx.requestMerchantTransfer (mchId, appId, package)."""


class Gateway(Protocol):
    channel: str

    def prepay(self, request: PrepayRequest) -> dict[str, Any]:
        """Create the provider-side order; return what the client needs to pay (JSON-safe)."""

    def query(self, out_trade_no: str) -> TradeState: ...

    def close(self, out_trade_no: str) -> str:
        """'closed' when the provider closed it (or never had it), 'paid' when it was already paid."""

    def refund(
        self,
        *,
        out_refund_no: str,
        out_trade_no: str,
        transaction_id: str,
        amount_fen: int,
        total_fen: int,
        reason: str,
    ) -> RefundState: ...

    def query_refund(self, out_refund_no: str) -> RefundState: ...

    def after_refund_submitted(self, out_refund_no: str) -> None:
        """Hook for gateways that deliver their own refund notification (the sandbox)."""
