"""Small helpers for tests that drive WeChat Pay through the fake."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from core.models import WeChatIdentity
from payments.gateways import protocol

NOTIFY_PATH = "/payments/wechatpay/notify/"


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def give_openid(user, *, appid: str = "wx_test_miniprogram", openid: str | None = None) -> str:
    openid = openid or f"o_test_{user.pk}"
    WeChatIdentity.objects.get_or_create(
        appid=appid, openid=openid, defaults={"user": user, "kind": WeChatIdentity.Kind.MINIPROGRAM}
    )
    return openid


def deliver(headers: dict[str, str], body: bytes, client: Client | None = None):
    """POST a notification as WeChat would (raw body, Wechatpay-* headers)."""
    client = client or Client()
    return client.post(
        NOTIFY_PATH, data=body, content_type="application/json", **protocol.django_meta_headers(headers)
    )
