"""Notification reads: the member's notifications and unread count, the configured subscribe-message
templates and the opt-ins a member has left."""

from __future__ import annotations

from core.discovery import app_modules
from members.models import Notification, SubscribeOptIn, SubscribeTemplate, User


def notification_kind_labels() -> dict[str, str]:
    """Every app's notification kinds with what they are called (`<app>.notification_kinds.LABELS`),
    in the reader's language."""
    labels: dict[str, str] = {}
    for module in app_modules("notification_kinds"):
        labels.update({kind: str(label) for kind, label in getattr(module, "LABELS", {}).items()})
    return labels


def notification_kind_label(kind: str) -> str:
    return notification_kind_labels().get(kind, kind)


def subscribe_template_get(key: str) -> SubscribeTemplate | None:
    """The active, configured (has a WeChat template id) template for a key, else None."""
    if not key:
        return None
    return SubscribeTemplate.objects.filter(key=key, is_active=True).exclude(template_id="").first()


def subscribe_optins_left(user: User, template_key: str) -> int:
    if not getattr(user, "pk", None):
        return 0
    return (
        SubscribeOptIn.objects.filter(user=user, template_key=template_key)
        .values_list("remaining", flat=True)
        .first()
        or 0
    )


def subscribe_optins_for_user(user: User) -> list[dict]:
    """Each active template with the member's opt-ins left (what the mini-program asks to top up)."""
    left = dict(SubscribeOptIn.objects.filter(user=user).values_list("template_key", "remaining"))
    return [
        {
            "template_key": template.key,
            "template_id": template.template_id,
            "name": template.name,
            "remaining": left.get(template.key, 0),
        }
        for template in SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="")
    ]


def notifications_for_user(user: User):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notifications_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
