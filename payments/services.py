"""payments services: orders, payments, notifications, refunds, sweeps and reconciliation.

Three-step rule for every provider call (docs/architecture.md §4): create rows and commit; call the
provider outside any transaction; lock the rows again, re-check their state, record the result.
Exactly-once effects (fulfil, revoke, listeners) happen inside the transaction that performs the
state transition, guarded by `select_for_update(of=("self",))` plus a state re-check.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.rejects import rejected_request, sample_text
from payments import items
from payments.gateways.base import GatewayError, PrepayRequest, RefundState, gateway_for
from payments.models import (
    Channel,
    Order,
    OrderEvent,
    Payment,
    PaymentNotification,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
)

logger = logging.getLogger(__name__)

S = Order.Status

# The only legal moves of an order; everything else is refused (django-oscar `set_status`).
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.PAID, S.CLOSED},
    S.PAID: {S.REFUNDING},
    S.REFUNDING: {S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.REFUNDING},
    S.CLOSED: set(),
    S.REFUNDED: set(),
}

WECHAT_CHANNELS = {
    Channel.WECHAT_MINIPROGRAM,
    Channel.WECHAT_JSAPI,
    Channel.WECHAT_NATIVE,
    Channel.WECHAT_H5,
}


def order_ttl() -> timedelta:
    return timedelta(minutes=getattr(settings, "PAYMENTS_ORDER_TTL_MINUTES", 30))


class IllegalTransition(ApplicationError):
    def __init__(self, order: Order, to: str):
        super().__init__(
            "illegal_transition",
            _("订单状态不允许此操作"),
            status_code=409,
            extra={"from": order.status, "to": to},
        )


class AmountMismatch(ApplicationError):
    def __init__(self, expected: int, got: int):
        super().__init__(
            "amount_mismatch",
            _("金额与订单不一致"),
            status_code=400,
            extra={"expected_fen": expected, "got_fen": got},
        )


def _unknown(what: str) -> ApplicationError:
    return ApplicationError(f"unknown_{what}", _("找不到对应的记录"), status_code=404)


# ---- state machine ----------------------------------------------------------------------------------


def order_transition(
    *, order: Order, to: str, reason: str, actor=None, updates: dict | None = None, **details
) -> OrderEvent:
    """Move a LOCKED order to `to`, refusing illegal moves, and write the audit row.

    `updates` are other fields saved in the same UPDATE (e.g. paid_at).
    """
    if to not in TRANSITIONS.get(order.status, set()):
        raise IllegalTransition(order, to)
    event = OrderEvent.record(
        order=order, from_status=order.status, to_status=to, reason=reason, actor=actor, details=details
    )
    order.status = to
    fields = ["status", "updated_at"]
    for name, value in (updates or {}).items():
        setattr(order, name, value)
        fields.append(name)
    if to == S.CLOSED:
        order.closed_at = timezone.now()
        fields.append("closed_at")
    order.save(update_fields=fields)
    return event


def _enqueue(task_name: str, object_id: int) -> None:
    """Hand a provider call to Celery after commit; if the broker is down the sweep retries it."""
    from payments import order_tasks

    try:
        getattr(order_tasks, task_name).delay(object_id)
    except Exception:  # noqa: BLE001 - broker unavailable: orders_sweep picks the row up later
        logger.exception("could not enqueue %s(%s)", task_name, object_id)


def _lock_order(pk: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).get(pk=pk)


# ---- orders --------------------------------------------------------------------------------------------


def _new_order_no() -> str:
    return timezone.localtime().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


def web_checkout_url(*, item_type: str, item_id: str) -> str:
    try:
        path = reverse("payments:checkout")
    except NoReverseMatch:  # pragma: no cover - urls always installed in the project
        path = "/payments/checkout/"
    return f"{settings.SITE_URL}{path}?{urlencode({'item_type': item_type, 'item_id': item_id})}"


def channel_check(channel: str) -> None:
    if channel not in Channel.values:
        raise ApplicationError(
            "invalid_channel", _("不支持的支付方式"), fields={"channel": [_("不支持的支付方式")]}
        )
    if channel == Channel.SANDBOX and not settings.PAYMENTS_SANDBOX_ENABLED:
        raise ApplicationError("channel_unavailable", _("沙箱支付仅用于开发和演示环境"))


def _order_open(*, user, **fields) -> Order:
    """The order row and its "created" audit event: how every order, bought or given, begins (pending)."""
    order = Order.objects.create(order_no=_new_order_no(), user=user, **fields)
    OrderEvent.objects.create(order=order, from_status="", to_status=S.PENDING, reason="created", actor=user)
    return order


# A buyer may start a second attempt (another device, another way to pay) before the first
# expires; a third unpaid order for the same item is refused, so nobody stacks payable orders for
# one thing (each extra payment would have to be refunded).
MAX_PENDING_ORDERS_PER_ITEM = 2


def order_create(
    *,
    user,
    item_type: str,
    item_id: str,
    channel: str,
    referral_code: str = "",
    platform: str = "",
) -> Order:
    """Price the item for the user (payments.items.quote) and create a pending order.

    Refuses unknown/unsellable items (ItemUnavailable), the sandbox outside development, and WeChat
    Pay for virtual goods in an iOS mini-program (`ios_virtual_payment_unsupported` + web link).
    """
    channel_check(channel)
    kind = items.get(item_type)
    item_id = str(item_id).strip()
    if not item_id:
        raise items.ItemUnavailable()
    if platform.lower() == "ios" and kind.virtual and channel == Channel.WECHAT_MINIPROGRAM:
        raise ApplicationError(
            "ios_virtual_payment_unsupported",
            _("根据微信规定，iOS 小程序内不能购买虚拟商品，请在网页中完成购买"),
            extra={"web_checkout_url": web_checkout_url(item_type=item_type, item_id=item_id)},
        )
    pending = Order.objects.filter(
        user=user, item_type=item_type, item_id=item_id, status=S.PENDING, expires_at__gt=timezone.now()
    ).values_list("order_no", flat=True)[: MAX_PENDING_ORDERS_PER_ITEM + 1]
    if len(pending) >= MAX_PENDING_ORDERS_PER_ITEM:
        raise ApplicationError(
            "too_many_pending_orders",
            _("该商品已有未支付的订单，请先完成支付或等待其关闭"),
            status_code=409,
            extra={"pending_order_nos": list(pending)},
        )
    quote = items.quote(user=user, item_type=item_type, item_id=item_id, referral_code=referral_code)
    referrer_id = quote.context.get("referrer_id")
    if referrer_id == getattr(user, "pk", None):
        referrer_id = None
    sales_rep_id = quote.context.get("sales_rep_id")
    if sales_rep_id == getattr(user, "pk", None):
        sales_rep_id = None
    now = timezone.now()
    with transaction.atomic():
        order = _order_open(
            user=user,
            item_type=item_type,
            item_id=item_id,
            title=quote.title[:200],
            list_price_fen=quote.list_price_fen,
            discount_fen=quote.discount_fen,
            amount_fen=quote.amount_fen,
            channel=channel,
            platform=platform[:16],
            referral_code=(referral_code or "")[:64],
            referrer_id=referrer_id,
            sales_rep_id=sales_rep_id,
            context=quote.context,
            lines=[{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines],
            expires_at=now + order_ttl(),
        )
        if order.amount_fen == 0:
            # Nothing to collect (e.g. an upgrade fully covered by credit): paid at once, same effects.
            _mark_paid(order=order, payment=None, paid_at=now, reason="free")
    return order


# Free grants (points mall, operator grants, group-buy gifts …) -------------------------------------------

# True while order_create_free prices an item: item types that are only ever given away (e.g. the
# members app's `membership_days`) refuse to be quoted for money unless this is set.
FREE_GRANT: ContextVar[bool] = ContextVar("payments_free_grant", default=False)


def order_create_free(
    *,
    user,
    item_type: str,
    item_id: str,
    reason: str,
    channel: str = "points",
    funded_by: Order | None = None,
) -> Order:
    """Give an item away through the registry: a zero-amount order, marked paid at once.

    The normal paid path runs (the item type's `fulfill`, then the paid listeners, once, in this
    transaction), so a points redemption or an operator grant is indistinguishable from a purchase to
    the app that fulfils it. `channel` records where it came from ("points", "grant", "group_buy"…);
    payment channels are refused. Such orders have no payment and cannot be refunded for money.

    `funded_by`: the paid order this gift stands for (a group-buy seat): the grant is worth what that
    order paid (`context["funded_fen"]`, e.g. as upgrade credit) and ends when that order is refunded.
    """
    channel = (channel or "").strip()
    if not channel or len(channel) > 32 or channel in Channel.values:
        raise ApplicationError(
            "invalid_channel", _("赠送订单的来源无效"), fields={"channel": [_("须为非支付渠道的来源标识")]}
        )
    kind = items.get(item_type)
    item_id = str(item_id).strip()
    if not item_id:
        raise items.ItemUnavailable()
    token = FREE_GRANT.set(True)
    try:
        quote = kind.quote(user=user, item_id=item_id)
    finally:
        FREE_GRANT.reset(token)
    reason = (reason or "").strip()[:64] or channel
    now = timezone.now()
    lines = [{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines]
    if quote.amount_fen:
        lines.append({"label": reason, "amount_fen": -quote.amount_fen})
    with transaction.atomic():
        order = _order_open(
            user=user,
            item_type=item_type,
            item_id=item_id,
            title=quote.title[:200],
            list_price_fen=quote.list_price_fen,
            discount_fen=quote.list_price_fen,
            amount_fen=0,
            channel=channel,
            context={
                **quote.context,
                "free_reason": reason,
                "free_channel": channel,
                **({"funded_fen": funded_by.amount_fen - funded_by.refunded_fen} if funded_by else {}),
            },
            lines=lines,
            expires_at=now,
            funded_by=funded_by,
        )
        _mark_paid(order=order, payment=None, paid_at=now, reason=f"free:{channel}"[:64])
    return order


def order_change_channel(*, order: Order, channel: str) -> Order:
    """The buyer switches payment method on the cashier page (pending orders only)."""
    channel_check(channel)
    if order.channel != channel and order.status == S.PENDING:
        Order.objects.filter(pk=order.pk, status=S.PENDING).update(channel=channel)
        order.channel = channel
    return order


# ---- payments ------------------------------------------------------------------------------------------


def payer_openid_for(*, user, channel: str) -> str:
    from core.models import WeChatIdentity
    from payments.gateways.wechatpay import appid_for

    kind = {
        Channel.WECHAT_MINIPROGRAM: WeChatIdentity.Kind.MINIPROGRAM,
        Channel.WECHAT_JSAPI: WeChatIdentity.Kind.OFFICIAL_ACCOUNT,
    }.get(channel)
    if kind is None:
        return ""
    identity = (
        WeChatIdentity.objects.filter(user=user, kind=kind, appid=appid_for(channel)).order_by("-id").first()
        or WeChatIdentity.objects.filter(user=user, kind=kind).order_by("-id").first()
    )
    return identity.openid if identity else ""


def payment_start(
    *, order: Order, channel: str | None = None, client_ip: str = "", payer_openid: str = ""
) -> Payment:
    """Create a payment attempt (committed), then ask the gateway for client parameters.

    Reuses the latest prepaid attempt of the same channel while it is fresh (prepay_id lives 2 h).
    Must not be called inside a transaction that holds locks (it calls WeChat).
    """
    channel = channel or order.channel
    channel_check(channel)
    if order.status != S.PENDING:
        raise ApplicationError("order_not_pending", _("订单已支付或已关闭"), status_code=409)
    if order.expires_at <= timezone.now():
        raise ApplicationError("order_expired", _("订单已过期，请重新下单"), status_code=409)
    # Native/H5 reuse a fresh prepaid attempt; JSAPI and the mini-program always start a new one, so
    # they do not look (one query less on every mini-program order).
    if channel not in (Channel.WECHAT_MINIPROGRAM, Channel.WECHAT_JSAPI):
        reusable = (
            order.payments.filter(
                channel=channel,
                status=Payment.Status.PREPAID,
                amount_fen=order.amount_fen,
                created_at__gte=timezone.now() - timedelta(minutes=90),
            )
            .order_by("-created_at")
            .first()
        )
        if reusable is not None:
            return reusable
    openid = payer_openid or payer_openid_for(user=order.user, channel=channel)
    if channel in (Channel.WECHAT_MINIPROGRAM, Channel.WECHAT_JSAPI) and not openid:
        raise ApplicationError("openid_required", _("请先用微信登录后再支付"))
    payment = Payment.objects.create(
        order=order,
        channel=channel,
        out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
        amount_fen=order.amount_fen,
        payer_openid=openid,
    )
    request = PrepayRequest(
        out_trade_no=payment.out_trade_no,
        amount_fen=payment.amount_fen,
        description=order.title,
        expires_at=order.expires_at,
        payer_openid=openid,
        client_ip=client_ip,
    )
    try:
        params = gateway_for(channel).prepay(request)
    except GatewayError as exc:
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED, error=str(exc)[:255])
        raise ApplicationError("payment_unavailable", _("发起支付失败，请稍后重试"), status_code=502) from exc
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
        status=Payment.Status.PREPAID, client_params=params
    )
    payment.status, payment.client_params = Payment.Status.PREPAID, params
    return payment


def _mark_paid(*, order: Order, payment: Payment | None, paid_at: datetime, reason: str) -> None:
    """Inside the lock: the one paid transition, then fulfil and listeners (same transaction)."""
    updates: dict = {"paid_at": paid_at}
    if payment is not None and order.channel != payment.channel:
        updates["channel"] = payment.channel
    order_transition(
        order=order,
        to=S.PAID,
        reason=reason,
        updates=updates,
        out_trade_no=payment.out_trade_no if payment else "",
        transaction_id=(payment.transaction_id or "") if payment else "",
    )
    items.get(order.item_type).fulfill(order=order)
    for listener in items.paid_listeners():
        listener(order)


def payment_confirm(
    *,
    out_trade_no: str,
    transaction_id: str,
    amount_fen: int,
    paid_at: datetime | None,
    payer_openid: str = "",
) -> Order:
    """Record a successful payment exactly once (idempotent; safe under concurrent deliveries).

    A payment for an order that is no longer pending (closed, or paid by another attempt) is kept
    and refunded automatically after commit.
    """
    # No savepoint when nested (the notify handler's transaction): any error aborts both anyway.
    with transaction.atomic(savepoint=False):
        # Parent before child: lock the order (found through its payment); the same statement reads
        # the payment's immutable facts (id, channel, amount) so it needs no read of its own.
        order = (
            Order.objects.select_for_update(of=("self",))
            .filter(payments__out_trade_no=out_trade_no)
            .annotate(
                payment_pk=F("payments__pk"),
                payment_channel=F("payments__channel"),
                payment_amount_fen=F("payments__amount_fen"),
            )
            .first()
        )
        if order is None:
            raise _unknown("out_trade_no")
        if int(amount_fen) != order.payment_amount_fen or order.payment_amount_fen != order.amount_fen:
            raise AmountMismatch(order.payment_amount_fen, int(amount_fen))
        payment = Payment(
            pk=order.payment_pk,
            order=order,
            channel=order.payment_channel,
            out_trade_no=out_trade_no,
            amount_fen=order.payment_amount_fen,
            status=Payment.Status.SUCCEEDED,
            transaction_id=transaction_id or None,
            paid_at=paid_at or timezone.now(),
            needs_auto_refund=order.status != S.PENDING,
        )
        payment._state.adding = False
        changes = {
            "status": payment.status,
            "transaction_id": payment.transaction_id,
            "paid_at": payment.paid_at,
            "needs_auto_refund": payment.needs_auto_refund,
            "updated_at": timezone.now(),
        }
        if payer_openid:
            changes["payer_openid"] = payer_openid
        # The UPDATE takes the payment's row lock (child after parent) and re-checks its state on the
        # latest row version: 0 rows means another delivery or a query already recorded it.
        recorded = (
            Payment.objects.filter(pk=payment.pk).exclude(status=Payment.Status.SUCCEEDED).update(**changes)
        )
        if not recorded:
            return order
        if order.status == S.PENDING:
            _mark_paid(order=order, payment=payment, paid_at=payment.paid_at, reason="payment")
        else:
            logger.warning(
                "payment %s arrived for order %s in %s: auto refund", out_trade_no, order, order.status
            )
            payment_id = payment.pk
            transaction.on_commit(lambda: _enqueue("refund_auto_start", payment_id))
    return order


def payment_sync(*, payment: Payment) -> str:
    """Ask the provider about one attempt and record what it says (no lock held while asking)."""
    try:
        state = gateway_for(payment.channel).query(payment.out_trade_no)
    except GatewayError as exc:
        logger.info("query %s failed: %s", payment.out_trade_no, exc)
        return "error"
    Payment.objects.filter(pk=payment.pk).update(
        queried_at=timezone.now(), query_count=payment.query_count + 1
    )
    if state.paid:
        try:
            payment_confirm(
                out_trade_no=payment.out_trade_no,
                transaction_id=state.transaction_id,
                amount_fen=state.amount_fen,
                paid_at=state.paid_at,
                payer_openid=state.payer_openid,
            )
        except AmountMismatch:
            logger.error("amount mismatch on query of %s", payment.out_trade_no)
            return "mismatch"
        return "paid"
    return state.state.lower()


def order_close(*, order: Order, reason: str = "expired") -> Order:
    """Close an unpaid order: close every open attempt at the provider first (outside locks).

    A close answered 'already paid' queries and marks the order paid instead.
    """
    open_payments = list(order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PREPAID]))
    for payment in open_payments:
        try:
            result = gateway_for(payment.channel).close(payment.out_trade_no)
        except GatewayError as exc:
            logger.info("close %s failed: %s", payment.out_trade_no, exc)
            return order  # try again on the next sweep; never close locally what WeChat may still take
        if result == "paid":
            payment_sync(payment=payment)
            order.refresh_from_db()
            return order
    with transaction.atomic():
        locked = _lock_order(order.pk)
        if locked.status != S.PENDING:
            return locked
        # A payment recorded meanwhile (notification) wins: re-check under the lock.
        if locked.payments.filter(status=Payment.Status.SUCCEEDED).exists():  # pragma: no cover
            return locked
        Payment.objects.filter(
            order=locked, status__in=[Payment.Status.CREATED, Payment.Status.PREPAID]
        ).update(status=Payment.Status.CLOSED, updated_at=timezone.now())
        order_transition(order=locked, to=S.CLOSED, reason=reason)
    return locked


# ---- notifications ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifyResult:
    status: int
    code: str = "SUCCESS"
    message: str = ""


_STORED_HEADERS = (
    "HTTP_WECHATPAY_SIGNATURE",
    "HTTP_WECHATPAY_TIMESTAMP",
    "HTTP_WECHATPAY_NONCE",
    "HTTP_WECHATPAY_SERIAL",
    "HTTP_WECHATPAY_SIGNATURE_TYPE",
    "CONTENT_TYPE",
    "HTTP_USER_AGENT",
)


def _finish(note: PaymentNotification, outcome: str, error: str = "", **fields) -> None:
    PaymentNotification.objects.filter(pk=note.pk).update(
        outcome=outcome, error=error[:2000], processed_at=timezone.now(), **fields
    )


def notification_receive(
    *, body: bytes, meta: dict, remote_addr: str = "", index: Callable[[dict], dict] | None = None
) -> tuple[PaymentNotification | None, object | None, NotifyResult | None]:
    """The part every WeChat Pay notification shares (payments, refunds, transfers): verify, store,
    deduplicate. Returns `(note, verified, None)` when the caller must act on it — the row is stored
    (committed) before anything is acted on — or `(None, None, answer)` when it is already answered:
    rejected (stored with why) or a duplicate of one already processed.

    Verification is pure computation and comes first; storing and deduplicating are then one
    statement (`_store_verified`), so a duplicate costs one insert. `index(resource)` gives extra
    columns to store for operators' searches (out_trade_no, …).
    """
    from payments.gateways.wechatpay import NotificationRejected, verify_notification

    raw = {
        "raw_body": body.decode("utf-8", "replace")[:100_000],
        "headers": {k: str(meta.get(k, ""))[:1000] for k in _STORED_HEADERS if meta.get(k)},
        "remote_addr": remote_addr[:64],
    }
    try:
        verified = verify_notification(meta=meta, body=body)
    except NotificationRejected as exc:
        # Unauthenticated: counted, and only a bounded sample kept (core/rejects.py).
        if rejected_request("wechatpay_notify"):
            PaymentNotification.objects.create(
                **{**raw, "raw_body": sample_text(raw["raw_body"])},
                outcome=PaymentNotification.Outcome.REJECTED,
                error=f"{exc.code}: {exc.message}",
                processed_at=timezone.now(),
            )
        status = 401 if exc.code in ("bad_signature", "unknown_serial") else 400
        return None, None, NotifyResult(status, "FAIL", exc.message)
    facts = {
        **raw,
        "verified": True,
        "claimed_id": verified.id,
        "event_type": verified.event_type,
        "resource": verified.resource,
        **(index(verified.resource) if index else {}),
    }
    note = _store_verified(facts, notification_id=verified.id)
    if note.outcome == PaymentNotification.Outcome.DUPLICATE:
        return None, None, NotifyResult(200)
    return note, verified, None


def _store_verified(facts: dict, *, notification_id: str) -> PaymentNotification:
    """Store a verified notification (autocommit) with its dedup verdict decided in the same INSERT.

    `outcome` is `duplicate` (and `processed_at` set) when a notification with this id was already
    processed, else `received`. One statement instead of an EXISTS read then an insert: the read
    and the write see the same snapshot either way, and the real guard against a concurrent twin
    stays the unique `notification_id` claimed in the acting transaction. The SQL is written out
    (values prepared by each field, as the ORM does) because the ORM cannot return a computed column
    from an INSERT, and building the same CASE/EXISTS as ORM expressions cost more than it saved.
    """
    Outcome = PaymentNotification.Outcome
    note = PaymentNotification(**facts)
    values = [f.get_db_prep_save(f.pre_save(note, True), connection) for f in _stored_fields()]
    with connection.cursor() as cursor:
        cursor.execute(
            _store_sql(), [*values, Outcome.DUPLICATE, Outcome.RECEIVED, timezone.now(), notification_id]
        )
        note.pk, note.outcome, note.processed_at = cursor.fetchone()
    note._state.adding, note._state.db = False, connection.alias
    return note


@lru_cache(maxsize=1)
def _stored_fields() -> tuple:
    return tuple(
        f
        for f in PaymentNotification._meta.concrete_fields
        if not f.primary_key and f.attname not in ("outcome", "processed_at")
    )


@lru_cache(maxsize=1)
def _store_sql() -> str:
    q = connection.ops.quote_name
    table, fields = q(PaymentNotification._meta.db_table), _stored_fields()
    return (
        f"INSERT INTO {table} ({', '.join(q(f.column) for f in fields)}, {q('outcome')}, {q('processed_at')}) "
        f"SELECT {', '.join(['%s'] * len(fields))}, "
        "CASE WHEN dedup.seen THEN %s ELSE %s END, CASE WHEN dedup.seen THEN %s END "
        f"FROM (SELECT EXISTS (SELECT 1 FROM {table} WHERE {q('notification_id')} = %s) AS seen) AS dedup "
        f"RETURNING {q('id')}, {q('outcome')}, {q('processed_at')}"
    )


def notification_handle(*, body: bytes, meta: dict, remote_addr: str = "") -> NotifyResult:
    """Verify, store, deduplicate and act on one WeChat Pay v3 payment or refund notification."""
    note, verified, answer = notification_receive(
        body=body,
        meta=meta,
        remote_addr=remote_addr,
        index=lambda resource: {
            "out_trade_no": str(resource.get("out_trade_no", ""))[:32],
            "out_refund_no": str(resource.get("out_refund_no", ""))[:64],
        },
    )
    if answer is not None:
        return answer
    resource = verified.resource
    try:
        with transaction.atomic():
            _act_on(verified.event_type, resource)
            # Claiming the id in the same transaction makes "acted" and "recorded" one fact.
            PaymentNotification.objects.filter(pk=note.pk).update(
                notification_id=verified.id,
                outcome=PaymentNotification.Outcome.PROCESSED,
                processed_at=timezone.now(),
            )
    except IntegrityError:
        _finish(note, PaymentNotification.Outcome.DUPLICATE)
        return NotifyResult(200)
    except AmountMismatch as exc:
        logger.error(
            "ALERT payment notification amount mismatch: %s %s", resource.get("out_trade_no"), exc.extra
        )
        _finish(note, PaymentNotification.Outcome.ALERT, f"amount_mismatch: {exc.extra}")
        return NotifyResult(400, "FAIL", exc.message)
    except ApplicationError as exc:
        _finish(note, PaymentNotification.Outcome.ERROR, f"{exc.code}: {exc.message}")
        return NotifyResult(exc.status_code if exc.status_code >= 400 else 400, "FAIL", exc.message)
    except Exception as exc:  # noqa: BLE001 - record, answer 5xx so WeChat retries
        logger.exception("notification %s failed", verified.id)
        _finish(note, PaymentNotification.Outcome.ERROR, f"{type(exc).__name__}: {exc}")
        return NotifyResult(500, "FAIL", _("处理失败"))
    return NotifyResult(204)


def _act_on(event_type: str, resource: dict) -> None:
    if event_type == "TRANSACTION.SUCCESS":
        if resource.get("trade_state") != "SUCCESS":
            return
        from payments.gateways.wechatpay import parse_time

        payment_confirm(
            out_trade_no=str(resource.get("out_trade_no", "")),
            transaction_id=str(resource.get("transaction_id", "")),
            amount_fen=int((resource.get("amount") or {}).get("total", -1)),
            paid_at=parse_time(resource.get("success_time", "")),
            payer_openid=(resource.get("payer") or {}).get("openid", ""),
        )
    elif event_type.startswith("REFUND."):
        refund_complete(
            out_refund_no=str(resource.get("out_refund_no", "")),
            status=str(resource.get("refund_status", "")),
            refund_id=str(resource.get("refund_id", "")),
            amount_fen=int((resource.get("amount") or {}).get("refund", -1)),
        )
    # Other event types are acknowledged and ignored.


# ---- refunds ------------------------------------------------------------------------------------------


def refund_window_open(order: Order, *, now: datetime | None = None) -> bool:
    if order.paid_at is None:
        return False
    window = items.get(order.item_type).refund_window_for(order=order)
    return (now or timezone.now()) <= order.paid_at + window


def _new_out_refund_no(order: Order) -> str:
    return f"R{order.order_no}{secrets.token_hex(3).upper()}"


def refund_request(
    *,
    order: Order,
    amount_fen: int | None,
    reason: str,
    requested_by,
    self_service: bool,
    system_cause: str = "",
) -> Refund:
    """Start a refund (full when amount_fen is None). One refund in flight per order.

    Self-service: the buyer, full amount, inside the item type's refund window. Operators may refund
    any paid amount left at any time. The WeChat call happens after commit, outside any lock.
    `system_cause`: the system refunds on its own authority (`refund_system_request`).
    """
    with transaction.atomic():
        locked = _lock_order(order.pk)
        if self_service:
            if requested_by is None or locked.user_id != requested_by.pk:
                raise ApplicationError("not_found", _("订单不存在"), status_code=404)
            if amount_fen not in (None, locked.refundable_fen):
                raise ApplicationError("partial_self_refund", _("自助退款只能全额退款"))
        if locked.status == S.REFUNDING:
            raise ApplicationError("refund_in_progress", _("退款正在处理中"), status_code=409)
        if locked.status == S.REFUNDED:
            raise ApplicationError("already_refunded", _("订单已全额退款"), status_code=409)
        if locked.status not in (S.PAID, S.PARTIALLY_REFUNDED):
            raise ApplicationError("order_not_refundable", _("订单未支付，无法退款"), status_code=409)
        if self_service:
            if locked.status != S.PAID:
                raise ApplicationError("already_refunded", _("订单已退款，请联系客服"), status_code=409)
            if not refund_window_open(locked):
                raise ApplicationError("refund_window_closed", _("已超过可自助退款的期限"))
        amount = locked.refundable_fen if amount_fen is None else int(amount_fen)
        if amount <= 0 or amount > locked.refundable_fen:
            raise ApplicationError(
                "invalid_refund_amount",
                _("退款金额须大于0且不超过可退金额"),
                fields={"amount_fen": [_("可退金额为 %(n)s 分") % {"n": locked.refundable_fen}]},
            )
        payment = locked.payments.filter(status=Payment.Status.SUCCEEDED, needs_auto_refund=False).first()
        if payment is None:
            raise ApplicationError("order_not_refundable", _("找不到支付记录"), status_code=409)
        refusal = next(iter(items.refund_terms(order=locked, amount_fen=amount)), None)
        if refusal is not None and refusal.refusal_code and getattr(requested_by, "pk", None):
            # A funding chain forbids it (credit used by an upgrade, points already spent …). Refunds
            # the system starts because it could not deliver (requested by nobody) always go ahead.
            raise ApplicationError(refusal.refusal_code, refusal.text, status_code=409, extra=refusal.extra)
        refund = Refund.objects.create(
            order=locked,
            payment=payment,
            out_refund_no=_new_out_refund_no(locked),
            amount_fen=amount,
            reason=(reason or "")[:200],
            kind=_refund_kind(self_service=self_service, system_cause=system_cause),
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        )
        order_transition(
            order=locked,
            to=S.REFUNDING,
            reason="refund_requested",
            actor=requested_by,
            **({"by": f"system:{system_cause}"} if system_cause else {}),
            out_refund_no=refund.out_refund_no,
            amount_fen=amount,
        )
        for listener in items.refund_requested_listeners():
            listener(locked, refund)
        refund_pk = refund.pk
        transaction.on_commit(lambda: _enqueue("refund_submit", refund_pk))
    order.status = locked.status
    return refund


def refund_system_request(*, order: Order, reason: str, cause: str) -> Refund:
    """A full refund the system starts on its own authority: `cause` names the rule that owes it
    (`auto_refund_due` for an order marked by `order_auto_refund_mark`, `group_buy_seat:<id>`,
    `paid_question_expired:<id>`). Kind `system`, no requested_by; the order's refund_requested event
    says `by=system:<cause>`, so operators see in admin why and by what the money moved."""
    return refund_request(
        order=order, amount_fen=None, reason=reason, requested_by=None, self_service=False, system_cause=cause
    )


def _refund_kind(*, self_service: bool, system_cause: str) -> str:
    if system_cause:
        return Refund.Kind.SYSTEM
    return Refund.Kind.SELF_SERVICE if self_service else Refund.Kind.OPERATOR


def order_auto_refund_mark(*, order_no: str, reason: str, order: Order | None = None) -> bool:
    """Record that the system owes `order_no` a full refund (see `Order.auto_refund_due_at`).

    Called by the app that sold the item, inside the paying transaction, before it enqueues the refund
    task; the mark commits or rolls back with the payment. Only paid orders can be marked. Idempotent:
    marking twice keeps the first time and reason. Returns whether the order carries the mark.

    `order`: the in-memory order being fulfilled, when the caller has it; it carries the mark too, so
    the paid listeners that run next in the same transaction (points) see that nothing was delivered.
    """
    now = timezone.now()
    Order.objects.filter(
        order_no=order_no, status__in=(S.PAID, S.PARTIALLY_REFUNDED), auto_refund_due_at__isnull=True
    ).update(auto_refund_due_at=now, auto_refund_reason=(reason or "")[:200], updated_at=now)
    marked = Order.objects.filter(order_no=order_no, auto_refund_due_at__isnull=False).exists()
    if marked and order is not None and order.auto_refund_due_at is None:
        order.auto_refund_due_at, order.auto_refund_reason = now, (reason or "")[:200]
    return marked


def order_auto_refund_start(*, order_no: str) -> Refund | None:
    """The refund task's service: refund in full an order the system marked as owed a refund.

    An order without the mark is refused (a warning in the log, nothing changed): the task takes an
    order number, and an order number alone must not be able to move money. Nothing left to refund
    (already refunding or refunded) is not an error: the task is safe to run twice."""
    order = Order.objects.filter(order_no=order_no).first()
    if order is None or order.auto_refund_due_at is None:
        logger.warning("refused automatic refund of %s: the system never marked it as owed one", order_no)
        return None
    if order.status not in (S.PAID, S.PARTIALLY_REFUNDED):
        return None
    try:
        return refund_system_request(order=order, reason=order.auto_refund_reason, cause="auto_refund_due")
    except ApplicationError as exc:  # already refunding / refunded meanwhile: nothing left to do
        logger.info("automatic refund of %s not started: %s", order_no, exc.code)
        return None


def refund_auto_start(*, payment_id: int) -> Refund | None:
    """Refund a payment that did not pay its order (closed order, paid twice). Idempotent."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("order").get(pk=payment_id)
        if not payment.needs_auto_refund:
            return None
        existing = payment.refunds.filter(kind=Refund.Kind.AUTO).exclude(status=Refund.Status.CLOSED).first()
        if existing is not None:
            refund = existing
        else:
            refund = Refund.objects.create(
                order=payment.order,
                payment=payment,
                out_refund_no=_new_out_refund_no(payment.order),
                amount_fen=payment.amount_fen,
                reason=_("订单已关闭或已支付，自动退回重复付款"),
                kind=Refund.Kind.AUTO,
            )
    if refund.status in Refund.ACTIVE:
        refund_submit(refund_id=refund.pk)
    return refund


def refund_submit(*, refund_id: int) -> Refund | None:
    """Call the provider for a pending refund (same out_refund_no on every retry) and record it."""
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status not in Refund.ACTIVE:
        return refund
    gateway = gateway_for(refund.payment.channel)
    error: GatewayError | None = None
    state: RefundState | None = None
    try:
        state = gateway.refund(
            out_refund_no=refund.out_refund_no,
            out_trade_no=refund.payment.out_trade_no,
            transaction_id=refund.payment.transaction_id or "",
            amount_fen=refund.amount_fen,
            total_fen=refund.payment.amount_fen,
            reason=refund.reason,
        )
    except GatewayError as exc:
        error = exc
    with transaction.atomic():
        _lock_order(refund.order_id)
        locked = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        if locked.status not in Refund.ACTIVE:
            return locked
        locked.attempts += 1
        if error is not None:
            locked.last_error = str(error)[:255]
            locked.save(update_fields=["attempts", "last_error"])
            if not error.retryable:
                logger.error("refund %s refused: %s", locked.out_refund_no, error)
                _refund_finish(refund=locked, status=Refund.Status.CLOSED)
            return locked
        assert state is not None
        if state.refund_id:
            locked.refund_id = state.refund_id
        if locked.status == Refund.Status.PENDING:
            locked.status = Refund.Status.PROCESSING
        locked.last_error = ""
        locked.save(update_fields=["attempts", "refund_id", "status", "last_error"])
        if state.status in ("SUCCESS", "CLOSED", "ABNORMAL"):
            _refund_finish(refund=locked, status=_REFUND_STATUS[state.status])
        else:
            out_refund_no = locked.out_refund_no
            transaction.on_commit(lambda: gateway.after_refund_submitted(out_refund_no))
    return locked


_REFUND_STATUS = {
    "SUCCESS": Refund.Status.SUCCEEDED,
    "CLOSED": Refund.Status.CLOSED,
    "ABNORMAL": Refund.Status.ABNORMAL,
}


def _refund_finish(*, refund: Refund, status: str) -> None:
    """Inside the order lock: end an in-flight refund; revoke + listeners once on success."""
    order = _lock_order(refund.order_id)
    refund.status = status
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "completed_at"])
    if refund.kind == Refund.Kind.AUTO:
        return  # the order was never paid by this payment: nothing to revoke
    if status == Refund.Status.SUCCEEDED:
        order.refunded_fen += refund.amount_fen
        order.save(update_fields=["refunded_fen", "updated_at"])
        to = S.REFUNDED if order.refunded_fen >= order.amount_fen else S.PARTIALLY_REFUNDED
        order_transition(
            order=order,
            to=to,
            reason="refund_succeeded",
            out_refund_no=refund.out_refund_no,
            amount_fen=refund.amount_fen,
        )
        items.get(order.item_type).revoke(order=order, refund=refund)
        for listener in items.refunded_listeners():
            listener(order, refund)
    else:
        to = S.PARTIALLY_REFUNDED if order.refunded_fen > 0 else S.PAID
        order_transition(order=order, to=to, reason=f"refund_{status}", out_refund_no=refund.out_refund_no)
        for listener in items.refund_failed_listeners():
            listener(order, refund)


def refund_complete(
    *, out_refund_no: str, status: str, refund_id: str = "", amount_fen: int | None = None
) -> Refund:
    """Record the provider's final word on a refund (notification or query). Idempotent."""
    ref = Refund.objects.filter(out_refund_no=out_refund_no).values_list("order_id", flat=True).first()
    if ref is None:
        raise _unknown("out_refund_no")
    with transaction.atomic():
        _lock_order(ref)
        refund = Refund.objects.select_for_update(of=("self",)).get(out_refund_no=out_refund_no)
        if amount_fen is not None and int(amount_fen) != refund.amount_fen:
            raise AmountMismatch(refund.amount_fen, int(amount_fen))
        if refund.status not in Refund.ACTIVE:
            return refund
        if refund_id and not refund.refund_id:
            refund.refund_id = refund_id
            refund.save(update_fields=["refund_id"])
        if status in _REFUND_STATUS:
            _refund_finish(refund=refund, status=_REFUND_STATUS[status])
    return refund


def refund_sync(*, refund: Refund) -> Refund | None:
    """Retry a pending refund or query an in-flight one (the refund side of 'no reliance on callbacks')."""
    if refund.status == Refund.Status.PENDING:
        return refund_submit(refund_id=refund.pk)
    try:
        state = gateway_for(refund.payment.channel).query_refund(refund.out_refund_no)
    except GatewayError as exc:
        logger.info("query refund %s failed: %s", refund.out_refund_no, exc)
        return refund
    if state.status in _REFUND_STATUS:
        return refund_complete(
            out_refund_no=refund.out_refund_no, status=state.status, refund_id=state.refund_id
        )
    return refund


# ---- sweeps ----------------------------------------------------------------------------------------------


def orders_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Query attempts pending ≥5 and ≥15 minutes, close expired orders, retry refunds and auto refunds."""
    now = now or timezone.now()
    counts = {"queried": 0, "paid": 0, "closed": 0, "refunds": 0, "auto_refunds": 0}
    due = (
        Payment.objects.filter(status=Payment.Status.PREPAID, order__status=S.PENDING)
        .filter(
            Q(query_count=0, created_at__lte=now - timedelta(minutes=5))
            | Q(query_count=1, created_at__lte=now - timedelta(minutes=15))
        )
        .order_by("created_at")[:limit]
    )
    for payment in due:
        counts["queried"] += 1
        if payment_sync(payment=payment) == "paid":
            counts["paid"] += 1
    expired = Order.objects.filter(status=S.PENDING, expires_at__lte=now).order_by("expires_at")[:limit]
    for order in expired:
        result = order_close(order=order)
        if result.status == S.CLOSED:
            counts["closed"] += 1
        elif result.status == S.PAID:
            counts["paid"] += 1
    # Auto refunds that were never started (enqueue lost); started ones are retried below.
    never_refunded = Payment.objects.filter(needs_auto_refund=True).exclude(
        Exists(Refund.objects.filter(payment=OuterRef("pk"), kind=Refund.Kind.AUTO))
    )
    for payment in never_refunded[:limit]:
        counts["auto_refunds"] += 1
        refund_auto_start(payment_id=payment.pk)
    stale = Refund.objects.select_related("payment").filter(
        status__in=Refund.ACTIVE, created_at__lte=now - timedelta(minutes=2)
    )[:limit]
    for refund in stale:
        counts["refunds"] += 1
        refund_sync(refund=refund)
    return counts


# ---- reconciliation ------------------------------------------------------------------------------------


def reconcile_bills(*, bill_date: date | None = None) -> ReconciliationRun:
    """Download WeChat's trade bill for a day (default yesterday) and list mismatches for operators."""
    from payments.gateways.wechatpay import WeChatPayGateway

    bill_date = bill_date or (timezone.localdate() - timedelta(days=1))
    try:
        rows = WeChatPayGateway().trade_bill(bill_date)
    except GatewayError as exc:
        run, _created = ReconciliationRun.objects.update_or_create(
            bill_date=bill_date,
            defaults={"status": ReconciliationRun.Status.FAILED, "error": str(exc)[:2000]},
        )
        return run
    tz = timezone.get_current_timezone()
    start = datetime.combine(bill_date, datetime.min.time(), tzinfo=tz)
    local = {
        p.out_trade_no: p
        for p in Payment.objects.filter(
            channel__in=WECHAT_CHANNELS, paid_at__gte=start, paid_at__lt=start + timedelta(days=1)
        )
    }
    billed_payments = {}
    mismatches: list[ReconciliationMismatch] = []
    K = ReconciliationMismatch.Kind
    for row in rows:
        if row.trade_state == "REFUND":
            refund = (
                Refund.objects.filter(out_refund_no=row.out_refund_no).first() if row.out_refund_no else None
            )
            if refund is None or refund.amount_fen != row.refund_fen:
                mismatches.append(
                    ReconciliationMismatch(
                        kind=K.REFUND,
                        out_trade_no=row.out_trade_no,
                        transaction_id=row.transaction_id,
                        bill_amount_fen=row.refund_fen,
                        local_amount_fen=refund.amount_fen if refund else None,
                        detail=f"退款单 {row.out_refund_no}",
                    )
                )
            continue
        billed_payments[row.out_trade_no] = row
        payment = local.get(row.out_trade_no) or Payment.objects.filter(out_trade_no=row.out_trade_no).first()
        if payment is None or payment.status != Payment.Status.SUCCEEDED:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.MISSING_LOCAL,
                    out_trade_no=row.out_trade_no,
                    transaction_id=row.transaction_id,
                    bill_amount_fen=row.amount_fen,
                    local_amount_fen=payment.amount_fen if payment else None,
                    detail=_("账单有此交易，本地未记为已支付"),
                )
            )
        elif payment.amount_fen != row.amount_fen:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.AMOUNT,
                    out_trade_no=row.out_trade_no,
                    transaction_id=row.transaction_id,
                    bill_amount_fen=row.amount_fen,
                    local_amount_fen=payment.amount_fen,
                    detail=_("金额不一致"),
                )
            )
    for out_trade_no, payment in local.items():
        if payment.status == Payment.Status.SUCCEEDED and out_trade_no not in billed_payments:
            mismatches.append(
                ReconciliationMismatch(
                    kind=K.MISSING_BILL,
                    out_trade_no=out_trade_no,
                    transaction_id=payment.transaction_id or "",
                    local_amount_fen=payment.amount_fen,
                    detail=_("本地已支付，账单无此交易"),
                )
            )
    with transaction.atomic():
        run, _created = ReconciliationRun.objects.update_or_create(
            bill_date=bill_date,
            defaults={
                "status": ReconciliationRun.Status.MISMATCH if mismatches else ReconciliationRun.Status.OK,
                "bill_rows": len(rows),
                "matched_rows": len(billed_payments)
                - sum(1 for m in mismatches if m.kind in (K.MISSING_LOCAL, K.AMOUNT)),
                "mismatch_count": len(mismatches),
                "error": "",
            },
        )
        run.mismatches.all().delete()
        for mismatch in mismatches:
            mismatch.run = run
        ReconciliationMismatch.objects.bulk_create(mismatches)
    return run
