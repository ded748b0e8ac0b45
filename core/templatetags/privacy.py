"""Template filters that keep personal data partly hidden on pages and in messages."""

from typing import Any

from django import template

from core.crypto import mask_phone

register = template.Library()


@register.filter
def masked_phone(phone: Any) -> str:
    """+8613812345678 → 138****5678 (a member's own number in sign-in messages, shoulder-safe)."""
    return mask_phone(str(phone or ""))
