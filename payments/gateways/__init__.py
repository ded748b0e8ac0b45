"""Payment gateways: WeChat Pay v3 (`wechatpay`), the development sandbox (`sandbox`), the contract
they share (`base`) and WeChat Pay's v3 signing and encryption (`protocol`).

This `__init__` is the package's entry point, and the one `__init__` besides `models/` that holds
code: the gateway factory. Services ask it for a gateway — `gateway_for(channel)` for payments and
refunds, `transfer_gateway_for(method)` for payouts — and never construct one, so which provider
serves a channel is decided in one place.
"""

from __future__ import annotations

from payments.gateways.base import Gateway, GatewayError, TransferGateway
from payments.gateways.sandbox import SandboxGateway
from payments.gateways.wechatpay import WeChatPayGateway


def transfer_gateway_for(method: str) -> TransferGateway:
    """The payout gateway of a withdrawal method that WeChat (or the sandbox) pays."""
    if method == "sandbox":
        return SandboxGateway()
    if method == "wechat":
        return WeChatPayGateway("wechat_miniprogram")
    raise GatewayError("unknown_payout_method", method)


def gateway_for(channel: str) -> Gateway:
    """The gateway that collects and refunds payments of `channel` (a `payments.models.Channel`)."""
    # Not at the top: models need Django's app registry, and standalone tools (bench/loadtest.py,
    # bench/fake_wechatpay.py) import payments.gateways.protocol, which runs this __init__ first.
    from payments.models import Channel

    if channel == Channel.SANDBOX:
        return SandboxGateway()
    if channel in Channel.values:
        return WeChatPayGateway(channel)
    raise GatewayError("unknown_channel", channel)
