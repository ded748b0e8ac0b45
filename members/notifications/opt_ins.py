"""Subscribe-message opt-ins: each prompt a member accepts allows one WeChat subscribe message of that
template; sending one consumes it (`members.notifications.services.notification_push`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from members.models import SubscribeOptIn, User

MAX_OPTINS_PER_CALL = 50


def subscribe_optin_record(*, user: User, template_key: str, count: int = 1) -> int:
    """The member accepted `count` subscribe prompts of a template; returns the opt-ins now left."""
    count = int(count)
    if count < 1 or count > MAX_OPTINS_PER_CALL:
        raise ApplicationError("invalid_count", _("次数须在 1 到 %(n)s 之间") % {"n": MAX_OPTINS_PER_CALL})
    if not template_key:
        raise ApplicationError("unknown_template", _("未知的订阅消息模板"))
    with transaction.atomic():
        SubscribeOptIn.objects.get_or_create(user=user, template_key=template_key)
        SubscribeOptIn.objects.filter(user=user, template_key=template_key).update(
            remaining=F("remaining") + count, accepted_total=F("accepted_total") + count
        )
        return SubscribeOptIn.objects.get(user=user, template_key=template_key).remaining


def subscribe_optin_consume(*, user: User, template_key: str) -> bool:
    """Use one opt-in if any is left: one UPDATE, never below zero, safe under concurrency."""
    return (
        SubscribeOptIn.objects.filter(user=user, template_key=template_key, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        == 1
    )


def subscribe_optin_restore(*, user_id: int, template_key: str) -> None:
    """Give back one opt-in a push consumed but WeChat refused before using it."""
    SubscribeOptIn.objects.filter(user_id=user_id, template_key=template_key).update(
        remaining=F("remaining") + 1
    )
