"""Notifications: the in-site message, its WeChat subscribe-message mirror (queued, pushed after commit,
swept when the task was lost), marking read, and the withdrawal outcome notice payments asks for.

Contract other apps code against: `notification_send`."""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wechatpy.exceptions import WeChatClientException

from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from core.wechat import miniprogram_client
from members.auth.selectors import miniprogram_openid
from members.models import Notification, SubscribeTemplate, User
from members.notifications.opt_ins import subscribe_optin_consume, subscribe_optin_restore
from members.notifications.selectors import subscribe_optins_left, subscribe_template_get
from payments.models import Withdrawal

logger = logging.getLogger(__name__)


def notification_send(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subscribe_template: str = "",
    subscribe_data: dict | list | None = None,
) -> Notification:
    """Create the in-site notification; queue a subscribe message when the member can receive one.

    Safe inside a transaction: the WeChat call happens after commit (Celery), where exactly one
    opt-in is consumed. Without an opt-in, an openid or a configured template: in-site only.
    """
    push = Notification.Push.NONE
    if subscribe_template:
        deliverable = (
            subscribe_template_get(subscribe_template) is not None
            and subscribe_optins_left(user, subscribe_template) > 0
            and bool(miniprogram_openid(user))
        )
        push = Notification.Push.QUEUED if deliverable else Notification.Push.SKIPPED
    notification = Notification.objects.create(
        user=user,
        kind=kind[:40],
        title=title[:200],
        body=body or "",
        url=(url or "")[:500],
        subscribe_template=subscribe_template or "",
        subscribe_data=_jsonable_data(subscribe_data),
        push_status=push,
    )
    if push == Notification.Push.QUEUED:
        notification_id = notification.pk
        transaction.on_commit(lambda: _enqueue_push(notification_id))
    return notification


def _jsonable_data(data) -> dict:
    if data is None:
        return {}
    if isinstance(data, (list, tuple)):
        return {"_values": [str(value) for value in data]}
    return {str(k): v if isinstance(v, dict) else str(v) for k, v in dict(data).items()}


def _enqueue_push(notification_id: int) -> None:
    from members import tasks  # cycle: members.tasks imports members.notifications.services

    try:
        tasks.notification_push.delay(notification_id)
    except Exception:  # noqa: BLE001 - broker down: the push sweep retries queued rows
        logger.exception("could not enqueue notification push %s", notification_id)


# WeChat limits per keyword type (subscribe message docs): longer values are refused with 47003.
_FIELD_LIMITS = {"thing": 20, "name": 10, "phrase": 5, "character_string": 32, "number": 32, "letter": 32}


def _field_value(field: str, value) -> str:
    text = str(value)
    prefix = field.rstrip("0123456789")
    limit = _FIELD_LIMITS.get(prefix)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…" if prefix == "thing" else text[:limit]
    return text


def subscribe_message_data(*, template: SubscribeTemplate, notification: Notification) -> dict:
    """WeChat's `data` ({"thing1": {"value": ...}}) from the caller's data or the title and body."""
    raw = notification.subscribe_data or {}
    if "_values" in raw:
        pairs = list(zip(template.field_names, raw["_values"], strict=False))
    elif raw:
        pairs = [(k, v.get("value", "") if isinstance(v, dict) else v) for k, v in raw.items()]
    else:
        pairs = list(zip(template.field_names, [notification.title, notification.body], strict=False))
    return {field: {"value": _field_value(field, value)} for field, value in pairs}


# errcode 43101: the user has no opt-in left at WeChat (refused or used up): the opt-in is gone.
_OPTIN_SPENT_ERRCODES = {43101}


def notification_push(*, notification_id: int) -> Notification | None:
    """Send one queued notification as a subscribe message, consuming exactly one opt-in.

    Claim (lock, re-check QUEUED, consume opt-in, mark SENDING) and commit; call WeChat with no lock
    held; record the result. A redelivered task finds the row no longer QUEUED and does nothing.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update(of=("self",)).filter(pk=notification_id).first()
        if notification is None or notification.push_status != Notification.Push.QUEUED:
            return notification
        template = subscribe_template_get(notification.subscribe_template)
        openid = miniprogram_openid(notification.user)
        if (
            template is None
            or not openid
            or not subscribe_optin_consume(user=notification.user, template_key=template.key)
        ):
            notification.push_status = Notification.Push.SKIPPED
            notification.save(update_fields=["push_status"])
            return notification
        notification.push_status = Notification.Push.SENDING
        notification.save(update_fields=["push_status"])
        data = subscribe_message_data(template=template, notification=notification)
    restore, error = False, ""
    try:
        result = miniprogram_client().wxa.send_subscribe_message(
            openid, template.template_id, data, page=template.page or None
        )
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
    except WeChatClientException as exc:
        error = f"{exc.errcode}: {exc.errmsg}"
        restore = exc.errcode not in _OPTIN_SPENT_ERRCODES  # WeChat refused before using the opt-in
    except (requests.ConnectionError, requests.ConnectTimeout) as exc:
        error, restore = f"unreachable: {exc.__class__.__name__}", True  # never reached WeChat
    except Exception as exc:  # noqa: BLE001 - e.g. a read timeout: it may have been sent; keep it used
        error = f"{exc.__class__.__name__}: {exc}"
    with transaction.atomic():
        if error:
            if restore:
                subscribe_optin_restore(user_id=notification.user_id, template_key=template.key)
            logger.warning("subscribe message %s failed: %s", notification_id, error)
            Notification.objects.filter(pk=notification_id).update(
                push_status=Notification.Push.FAILED, push_error=error[:255]
            )
        else:
            Notification.objects.filter(pk=notification_id).update(
                push_status=Notification.Push.SENT, pushed_at=timezone.now(), push_error=""
            )
    notification.refresh_from_db()
    return notification


def notifications_push_sweep(*, older_than_seconds: int = 120, limit: int = 500) -> int:
    """Re-enqueue pushes whose task was lost (broker down at commit time)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(push_status=Notification.Push.QUEUED, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for notification_id in ids:
        notification_push(notification_id=notification_id)
    return len(ids)


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise ApplicationError("not_found", _("通知不存在"), status_code=404)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def withdrawal_outcome_notify(withdrawal, event) -> Notification:
    """Tell the member what happened to a withdrawal (payments.wallet.withdrawals.on_outcome listener).

    Runs in the transaction that moved the withdrawal, so the message exists exactly when the move
    does; a subscribe message ("withdrawal_result") follows after commit when the member opted in."""
    status = Withdrawal.Status
    amount = fen_to_yuan_text(withdrawal.amount_fen, always_decimals=True)
    if withdrawal.status == status.WAIT_USER_CONFIRM:
        deadline = withdrawal.confirm_deadline
        title = _("提现待确认收款")
        body = _(
            "%(amount)s 已发起转账，请打开提现详情确认收款%(deadline)s，逾期未确认将退回可提现余额。"
        ) % {
            "amount": amount,
            "deadline": _("（%(time)s 前）") % {"time": timezone.localtime(deadline).strftime("%m-%d %H:%M")}
            if deadline
            else "",
        }
    elif withdrawal.status == status.PAID:
        title = _("提现已到账")
        body = _("%(amount)s 已到账。") % {"amount": amount}
    elif withdrawal.status == status.REJECTED:
        title = _("提现申请被驳回")
        body = _("%(amount)s 的提现申请被驳回：%(reason)s。金额已退回可提现余额。") % {
            "amount": amount,
            "reason": withdrawal.reject_reason or "-",
        }
    elif withdrawal.status == status.FAILED:
        title = _("提现转账失败")
        body = _("%(amount)s 转账未成功，金额已退回可提现余额，可重新申请。") % {"amount": amount}
    else:  # expired: the member did not confirm the receipt in time
        title = _("提现超时未确认")
        body = _("%(amount)s 未在规定时间内确认收款，金额已退回可提现余额，可重新申请。") % {"amount": amount}
    return notification_send(
        user=withdrawal.user,
        kind="withdrawal",
        title=title,
        body=body,
        url=reverse("payments:withdrawal_detail", kwargs={"withdrawal_id": withdrawal.pk}),
        subscribe_template="withdrawal_result",
        subscribe_data=[
            amount,
            withdrawal.get_status_display(),
            timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M"),
        ],
    )
