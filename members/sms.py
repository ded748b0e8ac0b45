"""Pluggable SMS senders for verification codes (settings.SMS_SENDER)."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from core import brand
from core.crypto import mask_phone

logger = logging.getLogger(__name__)


class ConsoleSmsSender:
    """Development sender: prints the code (the phone number is masked, the code is not)."""

    outbox: list[tuple[str, str]] = []  # (phone, code), read by tests
    shows_code_on_page = True  # development and the demo only: the code page shows it, badged 演示

    def send(self, phone: str, code: str) -> None:
        ConsoleSmsSender.outbox.append((phone, code))
        print(
            f"[SMS] to {mask_phone(phone)}: 【{brand.current().short_name}】验证码 {code}，5 分钟内有效。",
            flush=True,
        )  # noqa: T201


def sms_sender():
    return import_string(settings.SMS_SENDER)()
