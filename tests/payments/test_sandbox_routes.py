"""The sandbox cashier is a development-only part: production settings never route it.

payments/urls.py and payments/api_urls.py add the sandbox's URLs only when PAYMENTS_SANDBOX_ENABLED is
on at startup; config/settings/prod.py forces it off whatever the environment says. Checked in a
fresh interpreter on the real production settings (URLconfs are built once per process).
"""

import os
import subprocess
import sys
from pathlib import Path

from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "k" * 30 + "-production-secret-key-with-enough-entropy-1234567890",
    "JWT_SIGNING_KEY": "jwt-production-signing-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_KEY": "field-encryption-key-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "zhiquan.example.com",
    "SITE_URL": "https://zhiquan.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/zhiquan_prodcheck",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "WECHATPAY_MCHID": "1900000001",
    "WECHATPAY_APIV3_KEY": "0123456789abcdefghijklmnopqrstuv",
    "WECHATPAY_PRIVATE_KEY_PATH": "/run/secrets/key.pem",
    "WECHATPAY_CERT_SERIAL_NO": "ABC",
    "WECHATPAY_PUBLIC_KEY_PATH": "/run/secrets/pub.pem",
    "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_1",
    "WECHAT_MINIPROGRAM_APPID": "wx123",
    "WECHAT_MINIPROGRAM_SECRET": "secret",
    # Even when the environment asks for it.
    "PAYMENTS_SANDBOX_ENABLED": "true",
}

PROBE = """
import django
django.setup()
from django.urls import Resolver404, resolve
for path in ("/api/v1/orders/20261207000000123456/sandbox-pay/", "/payments/sandbox/T123/"):
    try:
        match = resolve(path)
    except Resolver404:
        print("unrouted", path)
    else:
        print("routed", path, match.view_name)
resolve("/api/v1/orders/")  # the rest of payments is routed
print("orders routed")
"""


def test_production_settings_do_not_route_the_sandbox():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, **PROD_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:3] == [
        "unrouted /api/v1/orders/20261207000000123456/sandbox-pay/",
        "unrouted /payments/sandbox/T123/",
        "orders routed",
    ], result.stdout


def test_test_settings_route_the_sandbox():
    """Development and test settings turn the sandbox on: the mini-program's stand-in is routed."""
    assert resolve("/api/v1/orders/X/sandbox-pay/").view_name == "api-order-sandbox-pay"
    assert resolve("/payments/sandbox/T123/").view_name == "payments:sandbox_cashier"
