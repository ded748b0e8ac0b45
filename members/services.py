"""members services: sign-up hook, notifications and subscribe messages, points.

Contracts other apps code against (see the brief): `notification_send`, `subscribe_optin_record`,
`subscribe_optin_consume`, `points_award`, `points_spend`, `on_user_signed_up`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from members.models import (
    MemberNumberSequence,
    MemberProfile,
    Membership,
    MembershipGrant,
    MembershipReminder,
    MembershipTier,
    Notification,
    Onboarding,
    PointsAccount,
    PointsEntry,
    Redemption,
    RepCursor,
    Reward,
    ServiceGroup,
    ServiceGroupStaff,
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


def withdrawal_outcome_notify(withdrawal, event) -> Notification:
    """Tell the member what happened to a withdrawal (payments.withdrawals.on_outcome listener).

    Runs in the transaction that moved the withdrawal, so the message exists exactly when the move
    does; a subscribe message ("withdrawal_result") follows after commit when the member opted in."""
    from django.urls import reverse

    from core.money import fen_to_yuan_text
    from payments.models import Withdrawal

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


# ---- points -----------------------------------------------------------------------------------------------


class InsufficientPoints(ApplicationError):
    def __init__(self, *, balance: int, needed: int):
        super().__init__(
            "insufficient_points",
            _("积分不足：需要 %(needed)s 积分，当前 %(balance)s 积分")
            % {"needed": needed, "balance": balance},
            extra={"balance": balance, "needed": needed},
        )


def _points_account_locked(user_id: int) -> PointsAccount:
    # Lock first: the account exists for every member who ever had points, so this is one statement;
    # only a member's first entry pays for get_or_create and a second lock.
    account = PointsAccount.objects.select_for_update(of=("self",)).filter(user_id=user_id).first()
    if account is None:
        PointsAccount.objects.get_or_create(user_id=user_id)
        account = PointsAccount.objects.select_for_update(of=("self",)).get(user_id=user_id)
    return account


def _points_entry_insert(*, account: PointsAccount, amount: int, reason: str, idempotency_key: str):
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING: the new entry, or None when the key is taken.

    The unique key still decides; doing it in one statement spares the look-up before the insert and
    the savepoint around it that catching an IntegrityError needs (3 statements on every award).
    """
    entry = PointsEntry(
        account=account,
        user_id=account.user_id,
        amount=amount,
        balance_after=account.balance + amount,
        reason=(reason or "")[:200],
        idempotency_key=idempotency_key[:128],
        created_at=timezone.now(),
    )
    meta = PointsEntry._meta
    columns = ["account_id", "user_id", "amount", "balance_after", "reason", "idempotency_key", "created_at"]
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING RETURNING {quote(meta.pk.column)}",
            [getattr(entry, c) for c in columns],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    entry.pk = row[0]
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


def _points_existing(*, user_id: int, amount: int, idempotency_key: str) -> PointsEntry:
    """The entry already posted under this key, if it is the same kind of move for the same member."""
    existing = PointsEntry.objects.get(idempotency_key=idempotency_key[:128])
    if existing.user_id != user_id or (existing.amount > 0) != (amount > 0):
        raise ApplicationError("idempotency_conflict", _("该操作编号已用于另一笔积分变动"), status_code=409)
    return existing


def _points_post(*, user_id: int, amount: int, reason: str, idempotency_key: str, cap_at_balance=False):
    """Append one entry and move the balance, exactly once per idempotency key (unique column).

    Three statements when the member has an account: lock it, insert the entry unless its key is
    taken, update the balance. Inside a caller's transaction no savepoint is opened: nothing is
    written before the last check that can refuse, so a refusal leaves that transaction usable.
    """
    if not idempotency_key:
        raise ValueError("points need an idempotency_key")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError("points amount must be a non-zero integer")
    with transaction.atomic() if not connection.in_atomic_block else nullcontext():
        account = _points_account_locked(user_id)
        if amount < 0 and account.balance < -amount:
            # A retried spend must answer with its first entry, not with "insufficient".
            if PointsEntry.objects.filter(idempotency_key=idempotency_key[:128]).exists():
                return _points_existing(user_id=user_id, amount=amount, idempotency_key=idempotency_key)
            if not cap_at_balance:
                raise InsufficientPoints(balance=account.balance, needed=-amount)
            amount = -account.balance
            if amount == 0:
                return None
        entry = _points_entry_insert(
            account=account, amount=amount, reason=reason, idempotency_key=idempotency_key
        )
        if entry is None:  # posted before (a retry), or the key was used for another member
            return _points_existing(user_id=user_id, amount=amount, idempotency_key=idempotency_key)
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
    return _points_post(user_id=user.pk, amount=amount, reason=reason, idempotency_key=idempotency_key)


def points_spend(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry:
    """Debit points; refuses to overdraw (`insufficient_points`). A repeated key returns the first entry."""
    _check_points_amount(amount)
    return _points_post(user_id=user.pk, amount=-amount, reason=reason, idempotency_key=idempotency_key)


def points_clawback(*, user: User, amount: int, reason: str, idempotency_key: str) -> PointsEntry | None:
    """Take back up to `amount` points (e.g. a refunded purchase); never below zero."""
    if amount <= 0:
        return None
    return _points_post(
        user_id=user.pk, amount=-amount, reason=reason, idempotency_key=idempotency_key, cap_at_balance=True
    )


def points_per_yuan() -> int:
    return int(getattr(settings, "POINTS_PER_YUAN", 1))


def points_for_order_paid(order) -> None:
    """Paid listener: purchases earn points (POINTS_PER_YUAN per whole yuan paid).

    A group-buy seat earns nothing while its group forms (an expired group refunds it); the gift
    order granted when the group succeeds earns for what the seat paid (`funded_fen`). An order its
    item could not honour (marked for an automatic refund while fulfilling) earns nothing.
    """
    if order.item_type == "group_buy" or getattr(order, "auto_refund_due_at", None):
        # Nothing delivered yet (group forming) or never (full, paid twice: refunded after commit).
        return
    paid_fen = order.amount_fen + int((order.context or {}).get("funded_fen", 0) or 0)
    points = paid_fen // 100 * points_per_yuan()
    if points <= 0:
        return
    # By id: loading the buyer's row only to read its pk was one statement on every paid order.
    _points_post(
        user_id=order.user_id,
        amount=points,
        reason=_("购买「%(title)s」") % {"title": order.title[:60]},
        idempotency_key=f"order-paid:{order.order_no}",
    )


def points_for_order_refunded(order, refund) -> None:
    """Refunded listener: take back the points the refunded part earned. Normally already taken when
    the refund was requested (members.funding reserves them under the same key): then a no-op."""
    from members import funding

    owed = funding.points_owed(order=order, amount_fen=refund.amount_fen)
    points_clawback(
        user=order.user,
        amount=owed,
        reason=_("退款「%(title)s」扣回积分") % {"title": order.title[:60]},
        idempotency_key=funding.refund_points_key(order, refund),
    )


# ---- memberships -----------------------------------------------------------------------------------------


def _lock_user(user: User) -> User:
    """Serialise everything that changes one member's membership (two orders paid at once)."""
    return User.objects.select_for_update(of=("self",)).get(pk=user.pk)


def membership_grant(
    *,
    user: User,
    tier: MembershipTier,
    days: int,
    source: str,
    order=None,
    value_fen: int = 0,
    credit_fen: int = 0,
    operator: User | None = None,
    reason: str = "",
    now=None,
) -> MembershipGrant:
    """Give `days` of `tier`: start (none active), renew (same tier: from the current end), upgrade
    (higher tier: a fresh window from now; the caller priced the credit), or — when a higher tier is
    active — convert the days at the two tiers' prices into days of the higher tier.

    Must run inside a transaction; locks the user row. The first membership assigns the member
    number and starts onboarding.
    """
    if days <= 0:
        raise ApplicationError("invalid_days", _("天数须大于 0"))
    locked_user = _lock_user(user)
    # The clock is read after the lock: a concurrent grant that committed while we waited must not
    # look like it starts in the future (and so be replaced instead of renewed).
    now = now or timezone.now()
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("tier").filter(user=user).first()
    )
    first_membership = membership is None
    before = (
        (membership.tier, membership.starts_at, membership.ends_at)
        if membership is not None
        else (None, None, None)
    )
    active = membership is not None and now < membership.ends_at
    window = timedelta(days=days)
    credited: list[int] = []
    if membership is None:
        kind = MembershipGrant.Kind.START
        membership = Membership(user=user, tier=tier, starts_at=now, ends_at=now + window)
    elif not active:
        kind = MembershipGrant.Kind.START
        membership.tier, membership.starts_at, membership.ends_at = tier, now, now + window
    elif membership.tier.rank == tier.rank:
        kind = MembershipGrant.Kind.RENEW
        membership.tier = tier
        membership.ends_at = membership.ends_at + window
    elif membership.tier.rank < tier.rank:
        kind = MembershipGrant.Kind.UPGRADE
        if credit_fen:
            # The grants whose value the credit was priced on (selectors.membership_window_value).
            credited = list(
                MembershipGrant.objects.filter(
                    membership=membership,
                    revoked_at__isnull=True,
                    tier=membership.tier,
                    starts_after__gte=membership.starts_at,
                ).values_list("pk", flat=True)
            )
        membership.tier, membership.starts_at, membership.ends_at = tier, now, now + window
    else:
        kind = MembershipGrant.Kind.CONVERT
        higher = membership.tier
        days = days * tier.price_fen // higher.price_fen if higher.price_fen else days
        reason = (reason + " " if reason else "") + _("%(tier)s 折算为 %(days)s 天 %(higher)s") % {
            "tier": tier.code,
            "days": days,
            "higher": higher.code,
        }
        membership.ends_at = membership.ends_at + timedelta(days=days)
        tier = higher
    membership.save()
    grant = MembershipGrant.objects.create(
        membership=membership,
        user=user,
        order=order,
        kind=kind,
        source=source,
        tier=membership.tier,
        tier_before=before[0],
        starts_before=before[1],
        ends_before=before[2],
        starts_after=membership.starts_at,
        ends_after=membership.ends_at,
        days=days,
        value_fen=value_fen,
        credit_fen=credit_fen,
        operator=operator if getattr(operator, "pk", None) else None,
        reason=reason[:200],
    )
    if credited:
        MembershipGrant.objects.filter(pk__in=credited).update(credit_consumed_by=grant)
    if not locked_user.member_no:
        member_no_assign(user=locked_user, tier=membership.tier)
        user.member_no = locked_user.member_no
    if first_membership or not Onboarding.objects.filter(user=user).exists():
        onboarding_start(
            user=locked_user,
            tier=membership.tier,
            now=now,
            sales_rep=order.sales_rep if order is not None and order.sales_rep_id else None,
        )
    _notify_membership_change(user=locked_user, grant=grant)
    return grant


def _notify_membership_change(*, user: User, grant: MembershipGrant) -> None:
    ends = timezone.localtime(grant.ends_after).strftime("%Y-%m-%d")
    titles = {
        MembershipGrant.Kind.START: _("欢迎成为%(tier)s"),
        MembershipGrant.Kind.RENEW: _("%(tier)s续费成功"),
        MembershipGrant.Kind.UPGRADE: _("已升级为%(tier)s"),
        MembershipGrant.Kind.CONVERT: _("%(tier)s有效期已延长"),
    }
    notification_send(
        user=user,
        kind="membership",
        title=titles[grant.kind] % {"tier": grant.tier.name},
        body=_("会员编号 %(no)s，有效期至 %(ends)s。") % {"no": user.member_no or "-", "ends": ends},
        url="/account/",
    )


def membership_revoke_grant(*, grant: MembershipGrant, reason: str, now=None) -> MembershipGrant:
    """Undo exactly what one grant did: shift the end back by what it added and, for an upgrade,
    restore the previous tier. Later grants stay in force. Idempotent."""
    now = now or timezone.now()
    _lock_user(grant.user)
    grant = (
        MembershipGrant.objects.select_for_update(of=("self",))
        .select_related("tier", "tier_before")
        .get(pk=grant.pk)
    )
    if grant.revoked_at is not None:
        return grant
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("tier").get(pk=grant.membership_id)
    )
    # Only days still in the current window can be taken back: a grant from before a later start or
    # upgrade (its days lapsed, or became that upgrade's credit) must not cut the later paid window.
    if grant.starts_after >= membership.starts_at:
        membership.ends_at = membership.ends_at - grant.ends_shift
    if grant.kind == MembershipGrant.Kind.UPGRADE:
        # The credited grants are theirs again (and refundable) once the upgrade is undone.
        MembershipGrant.objects.filter(credit_consumed_by=grant).update(credit_consumed_by=None)
    if grant.kind == MembershipGrant.Kind.UPGRADE and grant.tier_before is not None:
        if membership.tier_id == grant.tier_id:
            membership.tier = grant.tier_before
        if membership.starts_at == grant.starts_after and grant.starts_before is not None:
            membership.starts_at = grant.starts_before
    membership.ends_at = max(membership.ends_at, membership.starts_at)
    membership.save(update_fields=["tier", "starts_at", "ends_at", "updated_at"])
    grant.revoked_at = now
    grant.revoke_reason = reason[:200]
    grant.save(update_fields=["revoked_at", "revoke_reason"])
    still = membership.starts_at <= now < membership.ends_at
    notification_send(
        user=grant.user,
        kind="membership",
        title=_("会员权益已调整"),
        body=(
            _("因%(reason)s，%(tier)s会员现有效期至 %(ends)s。")
            % {
                "reason": reason,
                "tier": membership.tier.name,
                "ends": timezone.localtime(membership.ends_at).strftime("%Y-%m-%d"),
            }
            if still
            else _("因%(reason)s，您的会员已结束。") % {"reason": reason}
        ),
        url="/account/",
    )
    return grant


def membership_fulfil_order(*, order) -> MembershipGrant:
    """The membership item type's fulfil: once per order (the grant's order column is unique)."""
    existing = MembershipGrant.objects.filter(order=order).first()
    if existing is not None:
        return existing
    tier = MembershipTier.objects.get(code=order.item_id)
    source = {
        "points": MembershipGrant.Source.POINTS,
        "grant": MembershipGrant.Source.GRANT,
    }.get(order.channel, MembershipGrant.Source.PURCHASE)
    credit = int(order.context.get("credit_fen", 0) or 0)
    # A group-buy gift is worth what its seat paid (payments.order_create_free `funded_by`).
    funded = int(order.context.get("funded_fen", 0) or 0)
    return membership_grant(
        user=order.user,
        tier=tier,
        days=tier.duration_days,
        source=source,
        order=order,
        value_fen=order.amount_fen + credit + funded,
        credit_fen=credit,
        reason=order.title,
    )


def membership_revoke_order(*, order, refund) -> MembershipGrant | None:
    """A refund takes back what the order granted — once the order is fully refunded. A partial
    refund (an operator's price adjustment) leaves the days, but the grant is worth that much less:
    a later upgrade's credit is priced on what the member kept paid."""
    grant = MembershipGrant.objects.filter(order=order).first()
    if grant is None:
        return None
    if order.refunded_fen < order.amount_fen:
        MembershipGrant.objects.filter(pk=grant.pk).update(
            value_fen=Greatest(F("value_fen") - refund.amount_fen, Value(0))
        )
        return None
    return membership_revoke_grant(grant=grant, reason=_("订单 %(no)s 退款") % {"no": order.order_no})


def membership_grant_manual(
    *, user: User, tier: MembershipTier, days: int, operator: User, reason: str
) -> MembershipGrant:
    """An operator grants or extends a membership (offline payment, compensation…): recorded with the
    operator and the reason, and in the audit log."""
    from core.audit import audit_record

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", _("请填写原因"), fields={"reason": [_("必填")]})
    if days <= 0 or days > 3660:
        raise ApplicationError("invalid_days", _("天数须在 1 到 3660 之间"), fields={"days": [_("无效")]})
    with transaction.atomic():
        grant = membership_grant(
            user=user,
            tier=tier,
            days=days,
            source=MembershipGrant.Source.GRANT,
            operator=operator,
            reason=reason,
        )
        audit_record(
            actor=operator,
            action="membership_grant",
            target=grant.membership,
            summary=f"{tier.code} +{days}d {user.member_no or user.pk}: {reason}",
            user_id=user.pk,
            tier=tier.code,
            days=days,
            kind=grant.kind,
            grant_id=grant.pk,
            reason=reason,
        )
    return grant


def membership_revoke_manual(*, grant: MembershipGrant, operator: User, reason: str) -> MembershipGrant:
    from core.audit import audit_record

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", _("请填写原因"), fields={"reason": [_("必填")]})
    if grant.order_id is not None:
        raise ApplicationError("revoke_by_refund", _("订单开通的会员请通过退款撤销"))
    with transaction.atomic():
        grant = membership_revoke_grant(grant=grant, reason=reason)
        audit_record(
            actor=operator,
            action="membership_revoke",
            target=grant.membership,
            summary=f"revoke grant {grant.pk}: {reason}",
            grant_id=grant.pk,
            reason=reason,
        )
    return grant


def member_no_assign(*, user: User, tier: MembershipTier) -> str:
    """Give the (locked) user the next number of the tier's prefix: `VIP-000123`. Never reused."""
    if user.member_no:
        return user.member_no
    prefix = tier.member_no_prefix.strip().upper() or tier.code.upper()
    MemberNumberSequence.objects.get_or_create(prefix=prefix)
    sequence = MemberNumberSequence.objects.select_for_update(of=("self",)).get(prefix=prefix)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    user.member_no = f"{prefix}-{sequence.last_value:06d}"
    User.objects.filter(pk=user.pk).update(member_no=user.member_no)
    return user.member_no


# ---- expiry and renewal reminders ------------------------------------------------------------------------------

REMINDER_DAYS = (1, 7, 30)


def memberships_sweep(*, now=None, batch_size: int = 500) -> dict[str, int]:
    """Daily: remind at 30/7/1 days before the end (the nearest threshold not yet sent for this end
    date, so a missed day still reminds), and notify once when a membership has expired.

    Each reminder is claimed by inserting its unique row; a second run (or a second worker) finds
    the row there and sends nothing.
    """
    from members.selectors import days_left

    now = now or timezone.now()
    counts = {"reminded": 0, "expired": 0}
    horizon = now + timedelta(days=max(REMINDER_DAYS) + 1)
    due = (
        Membership.objects.select_related("tier", "user")
        .filter(ends_at__gt=now, ends_at__lte=horizon)
        .order_by("ends_at")
    )
    for membership in due.iterator(chunk_size=batch_size):
        left = days_left(membership, now=now)
        threshold = next((d for d in REMINDER_DAYS if left <= d), None)
        if threshold is None:
            continue
        kinds = [str(d) for d in REMINDER_DAYS if d <= threshold]
        if MembershipReminder.objects.filter(
            membership=membership, ends_at=membership.ends_at, kind__in=kinds
        ).exists():
            continue  # this (or a nearer) reminder went out for this end date already
        if _claim_reminder(membership, str(threshold)):
            counts["reminded"] += 1
            _send_renewal_reminder(membership, left)
    expired = (
        Membership.objects.select_related("tier", "user")
        .filter(ends_at__lte=now, ends_at__gt=now - timedelta(days=30))
        .filter(ends_at__gt=F("starts_at"))
        .exclude(
            Exists(
                MembershipReminder.objects.filter(
                    membership=OuterRef("pk"),
                    kind=MembershipReminder.Kind.EXPIRED,
                    ends_at=OuterRef("ends_at"),
                )
            )
        )
        .order_by("ends_at")
    )
    for membership in expired.iterator(chunk_size=batch_size):
        if _claim_reminder(membership, MembershipReminder.Kind.EXPIRED):
            counts["expired"] += 1
            notification_send(
                user=membership.user,
                kind="membership_expired",
                title=_("您的%(tier)s已到期") % {"tier": membership.tier.name},
                body=_("续费后立即恢复全部会员权益，会员编号保持不变。"),
                url=f"/membership/{membership.tier.code}/",
                subscribe_template="renewal_reminder",
                subscribe_data={
                    "thing1": _("%(tier)s已到期") % {"tier": membership.tier.name},
                    "time2": timezone.localtime(membership.ends_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
    return counts


def _claim_reminder(membership: Membership, kind: str) -> bool:
    try:
        with transaction.atomic():
            MembershipReminder.objects.create(membership=membership, kind=kind, ends_at=membership.ends_at)
    except IntegrityError:
        return False
    return True


def _send_renewal_reminder(membership: Membership, left: int) -> None:
    ends = timezone.localtime(membership.ends_at)
    title = (
        _("您的%(tier)s将于明天到期") % {"tier": membership.tier.name}
        if left <= 1
        else _("您的%(tier)s将在 %(n)s 天后到期") % {"tier": membership.tier.name, "n": left}
    )
    notification_send(
        user=membership.user,
        kind="renewal_reminder",
        title=title,
        body=_("到期时间 %(ends)s。续费从到期日起顺延，权益不中断。")
        % {"ends": ends.strftime("%Y-%m-%d %H:%M")},
        url=f"/membership/{membership.tier.code}/",
        subscribe_template="renewal_reminder",
        subscribe_data={
            "thing1": title,
            "time2": ends.strftime("%Y-%m-%d %H:%M"),
        },
    )


# ---- four-layer onboarding (四层沉淀) ------------------------------------------------------------------------


def _next_rep(role: str) -> User | None:
    """Round-robin among active staff holding `role` (by id, wrapping around)."""
    candidates = list(
        User.objects.filter(is_active=True, groups__name=role)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    if not candidates:
        return None
    RepCursor.objects.get_or_create(role=role)
    cursor = RepCursor.objects.select_for_update(of=("self",)).get(role=role)
    later = [pk for pk in candidates if cursor.last_user_id is None or pk > cursor.last_user_id]
    chosen = later[0] if later else candidates[0]
    cursor.last_user_id = chosen
    cursor.save(update_fields=["last_user_id"])
    return User.objects.get(pk=chosen)


def _big_group_for(tier: MembershipTier | None) -> ServiceGroup | None:
    groups = ServiceGroup.objects.filter(kind=ServiceGroup.Kind.BIG, is_active=True)
    if tier is not None:
        groups = groups.filter(Q(tier__isnull=True) | Q(tier__rank__lte=tier.rank))
    else:
        groups = groups.filter(tier__isnull=True)
    return groups.order_by(F("tier__rank").desc(nulls_last=True), "-created_at").first()


ONBOARDING_STEPS = (
    (Onboarding.Stage.REPS, "reps_assigned_at"),
    (Onboarding.Stage.SERVICE_GROUP, "service_group_joined_at"),
    (Onboarding.Stage.INTRO, "intro_submitted_at"),
    (Onboarding.Stage.BIG_GROUP, "big_group_joined_at"),
)


def _onboarding_refresh_stage(onboarding: Onboarding, *, now=None) -> list[str]:
    """Set `stage` to the first step not done; returns the changed field names."""
    now = now or timezone.now()
    stage = next(
        (stage for stage, field in ONBOARDING_STEPS if getattr(onboarding, field) is None),
        Onboarding.Stage.DONE,
    )
    if stage == onboarding.stage:
        return []
    onboarding.stage, onboarding.stage_since = stage, now
    changed = ["stage", "stage_since"]
    if stage == Onboarding.Stage.DONE and onboarding.completed_at is None:
        onboarding.completed_at = now
        changed.append("completed_at")
    return changed


def onboarding_start(
    *, user: User, tier: MembershipTier | None, now=None, sales_rep: User | None = None
) -> Onboarding:
    """After the first membership: assign a sales rep and a customer-service rep (round-robin), open
    the member's service group (对接群) with them (and a teacher, if any), and pick the big group.

    `sales_rep` is the rep of record of the order that started the membership (the rep who closed
    the sale: their own link, or a lead an operator gave them). While they are still an active
    sales rep they become the member's rep; otherwise the rotation picks one."""
    from core import roles
    from members.selectors import is_active_sales_rep

    now = now or timezone.now()
    onboarding, created = Onboarding.objects.get_or_create(
        user=user, defaults={"tier": tier, "started_at": now, "stage_since": now}
    )
    if not created:
        return onboarding
    sales, service, teacher = (
        sales_rep if sales_rep is not None and is_active_sales_rep(sales_rep) else _next_rep(roles.SALES),
        _next_rep(roles.CUSTOMER_SERVICE),
        _next_rep(roles.TEACHER),
    )
    group = ServiceGroup.objects.create(
        kind=ServiceGroup.Kind.SERVICE,
        name=(f"{user.member_no or ''} {user.display_name} " + _("对接群")).strip()[:64],
    )
    staff = [(sales, ServiceGroupStaff.Role.SALES), (service, ServiceGroupStaff.Role.SERVICE)]
    staff.append((teacher, ServiceGroupStaff.Role.TEACHER))
    ServiceGroupStaff.objects.bulk_create(
        [
            ServiceGroupStaff(group=group, user=person, role=role)
            for person, role in staff
            if person is not None
        ]
    )
    onboarding.sales_rep, onboarding.service_rep = sales, service
    onboarding.reps_assigned_at = now if sales and service else None
    onboarding.service_group = group
    onboarding.big_group = _big_group_for(tier)
    _onboarding_refresh_stage(onboarding, now=now)
    onboarding.save()
    notification_send(
        user=user,
        kind="onboarding",
        title=_("欢迎入会：完成入会四步"),
        body=_("您的专属顾问会拉您进对接群；提交自我介绍后即可加入会员大群。"),
        url="/account/onboarding/",
    )
    for rep in {person for person, _role in staff if person is not None}:
        notification_send(
            user=rep,
            kind="onboarding_assigned",
            title=_("新会员分配给您：%(name)s") % {"name": user.member_no or user.display_name},
            body=_("请建立对接群并上传群二维码。"),
            url=f"/admin/members/onboarding/{onboarding.pk}/change/",
        )
    return onboarding


def _onboarding_locked(user: User) -> Onboarding:
    onboarding = Onboarding.objects.select_for_update(of=("self",)).filter(user=user).first()
    if onboarding is None:
        raise ApplicationError("not_onboarding", _("开通会员后才有入会引导"), status_code=404)
    return onboarding


def onboarding_confirm_service_group(*, user: User, now=None) -> Onboarding:
    """The member says they joined their 对接群 (staff can mark it too)."""
    now = now or timezone.now()
    with transaction.atomic():
        onboarding = _onboarding_locked(user)
        if onboarding.service_group_joined_at is None:
            if onboarding.service_group is None or not onboarding.service_group.qr_image:
                raise ApplicationError("group_not_ready", _("顾问正在为您建群，请稍候或等待顾问邀请"))
            onboarding.service_group_joined_at = now
            onboarding.save(
                update_fields=[
                    "service_group_joined_at",
                    *_onboarding_refresh_stage(onboarding, now=now),
                    "updated_at",
                ]
            )
    return onboarding


def onboarding_confirm_big_group(*, user: User, now=None) -> Onboarding:
    """The member joined the big group; only after the self-introduction (house rule)."""
    now = now or timezone.now()
    with transaction.atomic():
        onboarding = _onboarding_locked(user)
        if onboarding.big_group_joined_at is None:
            if onboarding.intro_submitted_at is None:
                raise ApplicationError("intro_required", _("请先提交自我介绍，再加入会员大群"))
            onboarding.big_group_joined_at = now
            onboarding.save(
                update_fields=[
                    "big_group_joined_at",
                    *_onboarding_refresh_stage(onboarding, now=now),
                    "updated_at",
                ]
            )
    return onboarding


STAFF_MARKABLE_STEPS = {
    "service_group": "service_group_joined_at",
    "intro": "intro_submitted_at",
    "big_group": "big_group_joined_at",
}


def onboarding_mark_step(*, onboarding: Onboarding, step: str, operator: User, now=None) -> Onboarding:
    """Staff record a step done on the member's behalf (e.g. they pulled the member into the group)."""
    from core.audit import audit_record

    field = STAFF_MARKABLE_STEPS.get(step)
    if field is None:
        raise ApplicationError("invalid_step", _("未知的步骤"))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Onboarding.objects.select_for_update(of=("self",)).get(pk=onboarding.pk)
        if getattr(locked, field) is None:
            setattr(locked, field, now)
            locked.save(update_fields=[field, *_onboarding_refresh_stage(locked, now=now), "updated_at"])
            audit_record(
                actor=operator, action="onboarding_mark_step", target=locked, summary=step, step=step
            )
    return locked


def onboarding_reassign(
    *,
    onboarding: Onboarding,
    operator: User,
    sales_rep: User | None = None,
    service_rep: User | None = None,
    reason: str = "",
) -> Onboarding:
    """Operators move a member to other reps; the service group's staff follow. Audited."""
    from core import roles
    from core.audit import audit_record

    for person, role, label in (
        (sales_rep, roles.SALES, _("销售顾问")),
        (service_rep, roles.CUSTOMER_SERVICE, _("客服")),
    ):
        if person is not None and (not person.is_active or not person.groups.filter(name=role).exists()):
            raise ApplicationError(
                "not_a_rep",
                _("%(name)s 不是%(label)s") % {"name": person, "label": label},
                fields={"sales_rep" if role == roles.SALES else "service_rep": [_("该员工没有此角色")]},
            )
    now = timezone.now()
    with transaction.atomic():
        locked = Onboarding.objects.select_for_update(of=("self",)).get(pk=onboarding.pk)
        before = (locked.sales_rep_id, locked.service_rep_id)
        changed = ["updated_at"]
        for person, field, role in (
            (sales_rep, "sales_rep", ServiceGroupStaff.Role.SALES),
            (service_rep, "service_rep", ServiceGroupStaff.Role.SERVICE),
        ):
            if person is None or getattr(locked, f"{field}_id") == person.pk:
                continue
            setattr(locked, field, person)
            changed.append(field)
            if locked.service_group_id:
                ServiceGroupStaff.objects.filter(group_id=locked.service_group_id, role=role).delete()
                ServiceGroupStaff.objects.create(group_id=locked.service_group_id, user=person, role=role)
            notification_send(
                user=person,
                kind="onboarding_assigned",
                title=_("会员转交给您：%(name)s")
                % {"name": locked.user.member_no or locked.user.display_name},
                body=reason,
                url=f"/admin/members/onboarding/{locked.pk}/change/",
            )
        if locked.reps_assigned_at is None and locked.sales_rep_id and locked.service_rep_id:
            locked.reps_assigned_at = now
            changed.append("reps_assigned_at")
        changed += _onboarding_refresh_stage(locked, now=now)
        locked.save(update_fields=changed)
        audit_record(
            actor=operator,
            action="onboarding_reassign",
            target=locked,
            summary=reason,
            before=list(before),
            after=[locked.sales_rep_id, locked.service_rep_id],
        )
    return locked


# ---- profile and self-introduction ---------------------------------------------------------------------


def house_nickname(*, user: User, real_name: str, city: str, industry: str) -> str:
    """The house nickname format 编号-姓名-城市-行业 (parts that are missing are left out)."""
    parts = [user.member_no or "", real_name.strip(), city.strip(), industry.strip()]
    return "-".join(part for part in parts if part)[:64]


INTRO_MIN_CHARS, INTRO_MAX_CHARS = 20, 1000


def profile_update(
    *,
    user: User,
    real_name: str,
    city: str,
    industry: str,
    company: str = "",
    self_introduction: str = "",
    use_house_nickname: bool = False,
    nickname: str | None = None,
    now=None,
) -> MemberProfile:
    """Save the profile. A self-introduction (20–1,000 characters, content-checked) completes that
    onboarding step; `use_house_nickname` sets the nickname to 编号-姓名-城市-行业."""
    from core import content_check

    now = now or timezone.now()
    values = {
        "real_name": (real_name or "").strip(),
        "city": (city or "").strip(),
        "industry": (industry or "").strip(),
        "company": (company or "").strip(),
        "self_introduction": (self_introduction or "").strip(),
    }
    limits = {
        "real_name": 20,
        "city": 20,
        "industry": 20,
        "company": 64,
        "self_introduction": INTRO_MAX_CHARS,
    }
    errors = {
        name: [_("最多 %(n)s 个字") % {"n": limit}]
        for name, limit in limits.items()
        if len(values[name]) > limit
    }
    intro = values["self_introduction"]
    if intro and len(intro) < INTRO_MIN_CHARS:
        errors["self_introduction"] = [_("自我介绍至少 %(n)s 个字") % {"n": INTRO_MIN_CHARS}]
    if intro and not all(values[name] for name in ("real_name", "city", "industry")):
        for name in ("real_name", "city", "industry"):
            if not values[name]:
                errors[name] = [_("提交自我介绍时必填")]
    if nickname is not None and len(nickname.strip()) > 64:
        errors["nickname"] = [_("最多 64 个字")]
    if errors:
        raise ApplicationError("invalid", _("提交的内容有误"), fields=errors)
    text = "\n".join(v for v in values.values() if v) + ("\n" + nickname if nickname else "")
    verdict = content_check.check_text(text, openid=miniprogram_openid(user), scene=1)
    if verdict.suggest == content_check.RISKY:
        raise ApplicationError("content_rejected", _("内容包含不允许发布的信息，请修改后再提交"))
    with transaction.atomic():
        profile, _created = MemberProfile.objects.get_or_create(user=user)
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save()
        user_fields = []
        # The number may have been assigned since this user object was loaded (a payment meanwhile).
        user.member_no = User.objects.filter(pk=user.pk).values_list("member_no", flat=True).first()
        if use_house_nickname:
            user.nickname = house_nickname(
                user=user, **{k: values[k] for k in ("real_name", "city", "industry")}
            )
            user_fields.append("nickname")
        elif nickname is not None and nickname.strip():
            user.nickname = nickname.strip()
            user_fields.append("nickname")
        if user_fields:
            User.objects.filter(pk=user.pk).update(nickname=user.nickname)
        if intro:
            onboarding = Onboarding.objects.select_for_update(of=("self",)).filter(user=user).first()
            if onboarding is not None and onboarding.intro_submitted_at is None:
                onboarding.intro_submitted_at = now
                onboarding.save(
                    update_fields=[
                        "intro_submitted_at",
                        *_onboarding_refresh_stage(onboarding, now=now),
                        "updated_at",
                    ]
                )
    return profile


# ---- points mall (积分商城) ------------------------------------------------------------------------------------


def points_redeem(*, user: User, reward_id: int, idempotency_key: str) -> Redemption:
    """Spend points on a reward, exactly once per key: the points, the free order (which the item's
    own `fulfill` grants) and the stock move in one transaction, or not at all."""
    from payments.orders.checkout import order_create_free

    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise ApplicationError(
            "invalid", _("缺少兑换编号"), fields={"idempotency_key": [_("必填，最多 64 个字符")]}
        )
    key = f"redeem:{user.pk}:{idempotency_key}"
    with transaction.atomic():
        reward = Reward.objects.select_for_update(of=("self",)).filter(pk=reward_id).first()
        if reward is None:
            raise ApplicationError("not_found", _("奖品不存在"), status_code=404)
        existing = Redemption.objects.filter(idempotency_key=key).select_related("reward", "order").first()
        if existing is not None:
            return existing
        if not reward.is_active:
            raise ApplicationError("reward_unavailable", _("该奖品已下架"))
        if reward.stock is not None and reward.stock <= 0:
            raise ApplicationError("out_of_stock", _("该奖品已兑完"))
        if reward.per_member_limit:
            used = Redemption.objects.filter(user=user, reward=reward).count()
            if used >= reward.per_member_limit:
                raise ApplicationError(
                    "redeem_limit_reached", _("每人限兑 %(n)s 次") % {"n": reward.per_member_limit}
                )
        entry = points_spend(
            user=user,
            amount=reward.points_price,
            reason=_("兑换「%(title)s」") % {"title": reward.title[:60]},
            idempotency_key=key,
        )
        order = order_create_free(
            user=user,
            item_type=reward.item_type,
            item_id=reward.item_id,
            reason=_("积分兑换"),
            channel="points",
        )
        redemption = Redemption.objects.create(
            user=user,
            reward=reward,
            points=reward.points_price,
            points_entry=entry,
            order=order,
            idempotency_key=key,
        )
        reward.redeemed_count += 1
        if reward.stock is not None:
            reward.stock -= 1
        reward.save(update_fields=["redeemed_count", "stock", "updated_at"])
    return redemption


def points_adjust(
    *, user: User, amount: int, reason: str, operator: User, idempotency_key: str
) -> PointsEntry:
    """An operator adds (amount > 0) or deducts (amount < 0) points, with a reason; audited."""
    from core.audit import audit_record

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", _("请填写原因"), fields={"reason": [_("必填")]})
    with transaction.atomic():
        if amount > 0:
            entry = points_award(user=user, amount=amount, reason=reason, idempotency_key=idempotency_key)
        else:
            entry = points_spend(user=user, amount=-amount, reason=reason, idempotency_key=idempotency_key)
        audit_record(actor=operator, action="points_adjust", target=entry, summary=reason, amount=amount)
    return entry


# ---- mini-program login and phone binding -------------------------------------------------------------------


class WeChatLoginFailed(ApplicationError):
    def __init__(self, message: str | None = None):
        super().__init__("wechat_login_failed", message or _("微信登录失败，请重试"))


def _wechat_call(call):
    """Run one wechatpy call; any WeChat error, timeout or garbage answer becomes (None, reason)."""
    from wechatpy.exceptions import WeChatException

    try:
        result = call()
    except WeChatException as exc:
        return None, f"errcode {getattr(exc, 'errcode', '?')}"
    except Exception as exc:  # noqa: BLE001 - timeouts, garbage, token store down: a 400, never a 500
        return None, exc.__class__.__name__
    if not isinstance(result, dict):
        return None, "unexpected answer"
    return result, ""


SANDBOX_LOGIN_PREFIX = "sandbox:"
_SANDBOX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def sandbox_code2session(code: str) -> dict:
    """Development only (`WECHAT_SANDBOX_LOGIN`): `sandbox:<name>` stands for a wx.login code.

    The same name always gives the same fake openid (`o_sandbox_<name>`), so a developer can log in
    as a stable user against `make demo`, where code2session cannot reach WeChat. Refused (like any
    bad code) when the setting is off, which production settings force.
    """
    import secrets

    name = code[len(SANDBOX_LOGIN_PREFIX) :]
    if not settings.WECHAT_SANDBOX_LOGIN or not _SANDBOX_NAME.match(name):
        raise WeChatLoginFailed()
    return {"openid": f"o_sandbox_{name}", "session_key": secrets.token_hex(12)}


def miniprogram_login(*, code: str, referral_code: str = "") -> tuple[User, bool]:
    """`wx.login` code → code2session → our user (by appid+openid, else linked by unionid, else new).

    The session_key is stored encrypted and never returned. A new user triggers the sign-up hook
    (with `referral_code`) once, inside the transaction that creates them.
    """
    from core.models import WeChatIdentity
    from core.wechat import miniprogram_client

    code = (code or "").strip()
    if not code or len(code) > 128:
        raise WeChatLoginFailed(_("登录凭证无效"))
    if code.startswith(SANDBOX_LOGIN_PREFIX):
        session, problem = sandbox_code2session(code), ""
    else:
        session, problem = _wechat_call(lambda: miniprogram_client().wxa.code_to_session(code))
    openid = str((session or {}).get("openid") or "")
    if not openid:
        logger.info("code2session failed: %s", problem or "no openid")
        raise WeChatLoginFailed()
    unionid = str(session.get("unionid") or "")
    session_key = str(session.get("session_key") or "")
    appid = settings.WECHAT_MINIPROGRAM_APPID
    for attempt in range(2):
        try:
            with transaction.atomic():
                identity = (
                    WeChatIdentity.objects.select_for_update(of=("self",))
                    .select_related("user")
                    .filter(appid=appid, openid=openid)
                    .first()
                )
                if identity is not None:
                    identity.session_key = session_key
                    if unionid and not identity.unionid:
                        identity.unionid = unionid
                    identity.save(update_fields=["session_key", "unionid", "updated_at"])
                    user, created = identity.user, False
                else:
                    linked = (
                        WeChatIdentity.objects.select_related("user")
                        .filter(unionid=unionid)
                        .order_by("id")
                        .first()
                        if unionid
                        else None
                    )
                    created = linked is None
                    if created:
                        user = User(username=User.objects.generate_username("mp"), nickname=_("微信用户"))
                        user.set_unusable_password()
                        user.save()
                    else:
                        user = linked.user
                    WeChatIdentity.objects.create(
                        user=user,
                        kind=WeChatIdentity.Kind.MINIPROGRAM,
                        appid=appid,
                        openid=openid,
                        unionid=unionid,
                        session_key=session_key,
                    )
                    if created:
                        user_signed_up(user=user, referral_code=referral_code, source="miniprogram")
                break
        except IntegrityError:
            if attempt:  # the same openid logged in twice at once: the other request created it
                raise
    if not user.is_active:
        raise ApplicationError("account_disabled", _("账号已停用，请联系客服"), status_code=403)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, created


def jwt_pair(user: User) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def miniprogram_phone_bind(*, user: User, code: str) -> User:
    """`getPhoneNumber` code → getuserphonenumber → the user's verified phone (encrypted)."""
    from core.wechat import miniprogram_client

    code = (code or "").strip()
    if not code or len(code) > 128:
        raise ApplicationError("wechat_phone_failed", _("获取手机号失败，请重试"))
    result, problem = _wechat_call(lambda: miniprogram_client().wxa.get_phone_number(code))
    info = (result or {}).get("phone_info") or {}
    phone = str(info.get("purePhoneNumber") or info.get("phoneNumber") or "")
    watermark_appid = (info.get("watermark") or {}).get("appid")
    if not phone or (watermark_appid and watermark_appid != settings.WECHAT_MINIPROGRAM_APPID):
        logger.info("getuserphonenumber failed: %s", problem or "no phone / foreign watermark")
        raise ApplicationError("wechat_phone_failed", _("获取手机号失败，请重试"))
    country = str(info.get("countryCode") or "86")
    full = phone if phone.startswith("+") else (f"+{country}{phone}" if country != "86" else phone)
    if User.objects.filter_by_phone(full).exclude(pk=user.pk).exists():
        raise ApplicationError(
            "phone_in_use", _("该手机号已绑定其他账号，请用手机号登录或联系客服合并"), status_code=409
        )
    user.set_phone(full, verified=True)
    try:
        with transaction.atomic():
            user.save(update_fields=["phone", "phone_hash", "phone_verified"])
    except IntegrityError:
        raise ApplicationError(
            "phone_in_use", _("该手机号已绑定其他账号，请用手机号登录或联系客服合并"), status_code=409
        ) from None
    return user


def membership_days_fulfil(*, order) -> MembershipGrant:
    """Fulfil a `membership_days` order (points mall, gifts): the days, no cash value."""
    from members.items import parse_days_item

    existing = MembershipGrant.objects.filter(order=order).first()
    if existing is not None:
        return existing
    tier, days = parse_days_item(order.item_id)
    source = MembershipGrant.Source.POINTS if order.channel == "points" else MembershipGrant.Source.GRANT
    return membership_grant(
        user=order.user,
        tier=tier,
        days=days,
        source=source,
        order=order,
        value_fen=order.amount_fen,
        reason=order.title,
    )


def me_update(*, user: User, nickname: str | None = None, avatar_url: str | None = None) -> User:
    """Change the nickname (content-checked) or avatar URL from the mini-program."""
    from core import content_check

    fields = []
    if nickname is not None:
        nickname = nickname.strip()
        if not nickname:
            raise ApplicationError("invalid", _("昵称不能为空"), fields={"nickname": [_("必填")]})
        if (
            content_check.check_text(nickname, openid=miniprogram_openid(user), scene=1).suggest
            == content_check.RISKY
        ):
            raise ApplicationError("content_rejected", _("昵称包含不允许使用的内容"))
        user.nickname = nickname[:64]
        fields.append("nickname")
    if avatar_url is not None:
        user.avatar_url = avatar_url
        fields.append("avatar_url")
    if fields:
        user.save(update_fields=fields)
    return user
