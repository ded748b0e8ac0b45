"""Run Python in a fresh process under a chosen settings environment, and the production environment
the settings tests use (shared by tests/core, tests/members and tests/quality).

A fresh process is how settings are tested: Django reads them once per process. The caller's
`DJANGO_*`, `DATABASE_*` and `REDIS_*` variables are dropped so only the given environment counts.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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
}


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python <args>` from the repository root with `env` over a clean copy of ours."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
