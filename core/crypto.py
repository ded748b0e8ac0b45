"""Encryption at rest for personal data (phone numbers, payout real names).

Values are encrypted with Fernet (AES-128-CBC + HMAC) under a key derived from FIELD_ENCRYPTION_KEY;
lookups use a keyed hash (HMAC-SHA256) so equal values can be found without decrypting every row.
"""

import base64
import hashlib
import hmac
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _master_key() -> bytes:
    material = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    return hashlib.sha256(("zhiquan-field-key:" + material).encode()).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_master_key()))


def encrypt_text(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def keyed_hash(value: str, *, purpose: str) -> str:
    key = hmac.new(_master_key(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


_PHONE_DIGITS = re.compile(r"\D")


def normalize_phone(raw: str) -> str:
    """Return a mainland phone number in E.164 (+86…); other country codes are kept as given."""
    raw = (raw or "").strip()
    if raw.startswith("+"):
        return "+" + _PHONE_DIGITS.sub("", raw)
    digits = _PHONE_DIGITS.sub("", raw)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return "+86" + digits if digits else ""


def mask_phone(phone: str) -> str:
    """+8613812345678 -> 138****5678 (what admin screens and logs show)."""
    digits = _PHONE_DIGITS.sub("", phone or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "****" if digits else ""
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column whose stored value is Fernet ciphertext; Python code sees plaintext."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt_text(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt_text(value) if value else value
