"""members services: sign-up hook, notifications and subscribe messages, points.

Contracts other apps code against (see the brief): `notification_send`, `subscribe_optin_record`,
`subscribe_optin_consume`, `points_award`, `points_spend`, `on_user_signed_up`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from members.models import (
    Notification,
    PointsAccount,
    PointsEntry,
    SubscribeOptIn,
    SubscribeTemplate,
    User,
)

logger = logging.getLogger(__name__)

MAX_OPTINS_PER_CALL = 50

# ---- sign-up hook ---------------------------------------------------------------------------------------

SignUpListener = Callable[..., None]
_signup_listeners: list[SignUpListener] = []


def on_user_signed_up(listener: SignUpListener) -> None:
    """Register `listener(*, user, referral_code: str, source: str)`, called once per new user."""
    if listener not in _signup_listeners:
        _signup_listeners.append(listener)


def user_signed_up(*, user: User, referral_code: str = "", source: str) -> None:
    """Tell the listeners a user was just created (mini-program login or web sign-up).

    Each listener runs in its own savepoint: a failing listener (e.g. a bad referral code) is logged
    and never blocks the sign-up itself.
    """
    for listener in list(_signup_listeners):
        try:
            with transaction.atomic():
                listener(user=user, referral_code=(referral_code or "").strip(), source=source)
        except Exception:  # noqa: BLE001 - a listener's bug must not lose the new user's login
            logger.exception("sign-up listener %r failed for user %s", listener, user.pk)


# ---- subscribe-message opt-ins ------------------------------------------------------------------------


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


def _subscribe_optin_restore(*, user_id: int, template_key: str) -> None:
    SubscribeOptIn.objects.filter(user_id=user_id, template_key=template_key).update(
        remaining=F("remaining") + 1
    )


# ---- notifications --------------------------------------------------------------------------------------


def subscribe_template_get(key: str) -> SubscribeTemplate | None:
    """The active, configured (has a WeChat template id) template for a key, else None."""
    if not key:
        return None
    return SubscribeTemplate.objects.filter(key=key, is_active=True).exclude(template_id="").first()


def miniprogram_openid(user: User) -> str:
    from core.models import WeChatIdentity

    identity = (
        WeChatIdentity.objects.filter(
            user=user, kind=WeChatIdentity.Kind.MINIPROGRAM, appid=settings.WECHAT_MINIPROGRAM_APPID
        )
        .order_by("-id")
        .first()
    )
    return identity.openid if identity else ""


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
        from members.selectors import subscribe_optins_left

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
    from members import tasks

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
    from wechatpy.exceptions import WeChatClientException

    from core.wechat import miniprogram_client

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
                _subscribe_optin_restore(user_id=notification.user_id, template_key=template.key)
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


# ---- points -----------------------------------------------------------------------------------------------


class InsufficientPoints(ApplicationError):
    def __init__(self, *, balance: int, needed: int):
        super().__init__(
            "insufficient_points",
            _("积分不足：需要 %(needed)s 积分，当前 %(balance)s 积分")
            % {"needed": needed, "balance": balance},
            extra={"balance": balance, "needed": needed},
        )


def _points_account_locked(user: User) -> PointsAccount:
    PointsAccount.objects.get_or_create(user=user)
    return PointsAccount.objects.select_for_update(of=("self",)).get(user=user)


def _points_post(*, user: User, amount: int, reason: str, idempotency_key: str, cap_at_balance=False):
    """Append one entry and move the balance, exactly once per idempotency key (unique column)."""
    if not idempotency_key:
        raise ValueError("points need an idempotency_key")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError("points amount must be a non-zero integer")
    with transaction.atomic():
        account = _points_account_locked(user)
        existing = PointsEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.user_id != user.pk or (existing.amount > 0) != (amount > 0):
                raise ApplicationError(
                    "idempotency_conflict", _("该操作编号已用于另一笔积分变动"), status_code=409
                )
            return existing
        if amount < 0 and account.balance < -amount:
            if not cap_at_balance:
                raise InsufficientPoints(balance=account.balance, needed=-amount)
            amount = -account.balance
            if amount == 0:
                return None
        try:
            with transaction.atomic():
                entry = PointsEntry.objects.create(
                    account=account,
                    user=user,
                    amount=amount,
                    balance_after=account.balance + amount,
                    reason=(reason or "")[:200],
                    idempotency_key=idempotency_key[:128],
                )
        except IntegrityError:
            # Same key posted concurrently for another user's account: the first one wins.
            existing = PointsEntry.objects.get(idempotency_key=idempotency_key)
            if existing.user_id != user.pk:
                raise ApplicationError(
                    "idempotency_conflict", _("该操作编号已用于另一笔积分变动"), status_code=409
                ) from None
            return existing
        account.balance += amount
        if amount > 0:
            account.earned_total += amount
        else:
            account.spent_total += -amount
        account.save(update_fields=["balance", "earned_total", "spent_total", "updated_at"])
    return entry


def _check_points_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("points amounts are positive integers")


def points_award(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry:
    """Credit points (check-ins, referrals, purchases…). A repeated key returns the first entry."""
    _check_points_amount(amount)
    return _points_post(user=user, amount=amount, reason=reason, idempotency_key=idempotency_key)


def points_spend(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry:
    """Debit points; refuses to overdraw (`insufficient_points`). A repeated key returns the first entry."""
    _check_points_amount(amount)
    return _points_post(user=user, amount=-amount, reason=reason, idempotency_key=idempotency_key)


def points_clawback(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry | None:
    """Take back up to `amount` points (e.g. a refunded purchase); never below zero."""
    if amount <= 0:
        return None
    return _points_post(
        user=user, amount=-amount, reason=reason, idempotency_key=idempotency_key, cap_at_balance=True
    )


def points_per_yuan() -> int:
    return int(getattr(settings, "POINTS_PER_YUAN", 1))


def points_for_order_paid(order) -> None:
    """Paid listener: purchases earn points (POINTS_PER_YUAN per whole yuan paid)."""
    points = order.amount_fen // 100 * points_per_yuan()
    if points <= 0:
        return
    points_award(
        user=order.user,
        amount=points,
        reason=_("购买「%(title)s」") % {"title": order.title[:60]},
        idempotency_key=f"order-paid:{order.order_no}",
    )


def points_for_order_refunded(order, refund) -> None:
    """Refunded listener: take back the points the refunded part earned (never overdrawing)."""
    earned = PointsEntry.objects.filter(idempotency_key=f"order-paid:{order.order_no}").first()
    if earned is None:
        return
    prefix = f"order-refund:{order.order_no}:"
    taken = -sum(
        PointsEntry.objects.filter(idempotency_key__startswith=prefix).values_list("amount", flat=True)
    )
    owed = min(earned.amount - taken, refund.amount_fen // 100 * points_per_yuan())
    points_clawback(
        user=order.user,
        amount=owed,
        reason=_("退款「%(title)s」扣回积分") % {"title": order.title[:60]},
        idempotency_key=f"{prefix}{refund.out_refund_no}",
    )
