"""Pluggable senders of marketing SMS (settings.MARKETING_SMS_SENDER), apart from the verification-code
sender (members/sms.py): a provider's marketing channel needs its own signature and template approval."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from core.crypto import mask_phone

logger = logging.getLogger(__name__)


class ConsoleMarketingSmsSender:
    """Development sender: prints the message with the number masked; tests read `outbox`."""

    outbox: list[tuple[str, str]] = []  # (phone, text)

    def send(self, phone: str, text: str) -> None:
        ConsoleMarketingSmsSender.outbox.append((phone, text))
        print(f"[marketing SMS] to {mask_phone(phone)}: {text}", flush=True)  # noqa: T201


def marketing_sms_sender():
    return import_string(settings.MARKETING_SMS_SENDER)()
