"""WeChat Pay API v3 wire format, both directions (WECHAT.md "wire format").

Production code uses the merchant side through wechatpayv3. This module also implements WeChat's
side — signing responses and notifications, encrypting resources — because two things must play
WeChat faithfully: the sandbox cashier (demo) and the fake server in tests. Keeping both on one
implementation means the demo exercises exactly the verification code production runs.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem)


def random_nonce(length: int = 32) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@functools.lru_cache(maxsize=16)
def _private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """The parsed key, kept: parsing checks the RSA key's consistency, ~30 ms each time, which was
    most of the time a sandbox payment or a test's fake WeChat spent signing."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("WeChat Pay signs with RSA keys only")
    return key


def rsa_sign(private_pem: str, message: str) -> str:
    signature = _private_key(private_pem).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(public_pem: str, message: str, signature_b64: str) -> bool:
    try:
        key = serialization.load_pem_public_key(public_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise TypeError("WeChat Pay signs with RSA keys only")
        key.verify(base64.b64decode(signature_b64), message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def aes_gcm_encrypt(apiv3_key: str, plaintext: str, *, associated_data: str, nonce: str) -> str:
    return base64.b64encode(
        AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    ).decode()


# --- merchant -> WeChat request authorization --------------------------------------------------


def parse_authorization(header: str) -> dict[str, str]:
    """'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="…",…' -> {"mchid": "1", …}."""
    if not header.startswith(SIGNATURE_TYPE + " "):
        return {}
    fields = {}
    for part in header[len(SIGNATURE_TYPE) + 1 :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip('"')
    return fields


def request_message(method: str, path_with_query: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{path_with_query}\n{timestamp}\n{nonce}\n{body}\n"


def build_authorization(
    *,
    method: str,
    path_with_query: str,
    body: str,
    mchid: str,
    serial_no: str,
    private_pem: str,
    timestamp: int | None = None,
) -> str:
    ts, nonce = str(timestamp or int(time.time())), random_nonce()
    signature = rsa_sign(private_pem, request_message(method, path_with_query, ts, nonce, body))
    return (
        f'{SIGNATURE_TYPE} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{ts}",serial_no="{serial_no}"'
    )


def verify_authorization(
    *, header: str, method: str, path_with_query: str, body: str, merchant_public_pem: str
) -> bool:
    fields = parse_authorization(header)
    if not {"mchid", "nonce_str", "signature", "timestamp", "serial_no"} <= fields.keys():
        return False
    message = request_message(method, path_with_query, fields["timestamp"], fields["nonce_str"], body)
    return rsa_verify(merchant_public_pem, message, fields["signature"])


# --- WeChat -> merchant responses and notifications ----------------------------------------------


def response_message(timestamp: str, nonce: str, body: str) -> str:
    return f"{timestamp}\n{nonce}\n{body}\n"


def signed_headers(
    *, body: str, platform_private_pem: str, public_key_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The Wechatpay-* headers WeChat puts on a response or a notification."""
    ts, nonce = str(timestamp if timestamp is not None else int(time.time())), random_nonce()
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": public_key_id,
        "Wechatpay-Signature": rsa_sign(platform_private_pem, response_message(ts, nonce, body)),
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def build_notification(
    *,
    event_type: str,
    resource: dict[str, Any],
    apiv3_key: str,
    platform_private_pem: str,
    public_key_id: str,
    timestamp: int | None = None,
    notification_id: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """A complete v3 notification: (headers, raw JSON body) as WeChat would POST it."""
    if event_type.startswith("MCHTRANSFER."):
        # 商家转账 notifications: original_type mch_payment, empty associated_data (as WeChat sends them)
        original_type, associated_data = "mch_payment", ""
    else:
        original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
        associated_data = original_type
    nonce = random_nonce(12)
    body = json.dumps(
        {
            "id": notification_id or f"EV-{uuid.uuid4()}",
            "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600)),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": {
                "transaction": "支付成功",
                "refund": "退款状态变更",
                "mch_payment": "商家转账单据终态通知",
            }[original_type],
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": aes_gcm_encrypt(
                    apiv3_key,
                    json.dumps(resource, ensure_ascii=False),
                    associated_data=associated_data,
                    nonce=nonce,
                ),
                "associated_data": associated_data,
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )
    headers = signed_headers(
        body=body, platform_private_pem=platform_private_pem, public_key_id=public_key_id, timestamp=timestamp
    )
    headers["Content-Type"] = "application/json"
    return headers, body.encode()


def django_meta_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as Django's test client wants them (HTTP_WECHATPAY_SIGNATURE=…)."""
    return {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in headers.items()
        if name.lower() != "content-type"
    }
