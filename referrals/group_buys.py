"""Group buying (拼团): open, join, pay, succeed (everyone fulfilled once) or expire (everyone refunded).

A place in a group is a `GroupBuyMember` row ("seat"); the buyer pays for it through an ordinary
order of item type `group_buy` whose item id is the seat id. Places are reserved at join time under
the group row lock, so the last place can never be given twice; a reservation lapses with the
order (`reserved_until`). When the N-th seat is paid the group succeeds inside that payment's
transaction and every paid member receives the underlying item through
`payments.orders.checkout.order_create_free` (exactly once per seat: `granted_order` is set in the same
transaction). An expired group is refunded by the sweep through `payments.orders.refunds.refund_request`.

A group's status moves only through `group_buy_transition`, which refuses any move
`GROUP_BUY_TRANSITIONS` does not list and stamps the times the move implies.

Lock order: payments.Order (held by payments in fulfil/revoke) → GroupBuy → GroupBuyMember. The
sweep never holds a group lock while it asks payments to refund.
"""

from __future__ import annotations

import copy
import functools
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ApplicationError
from payments import items
from payments.models import Order
from payments.orders.checkout import order_create_free, order_ttl
from payments.orders.refunds import refund_system_request
from referrals.locks import lock_group
from referrals.models import GroupBuy, GroupBuyMember, GroupBuyOffer
from referrals.notifications import notify_member

logger = logging.getLogger(__name__)

ITEM_TYPE = "group_buy"
# One person cannot hold places in many groups without paying (places are scarce for everyone else).
MAX_UNPAID_RESERVATIONS = 3
G = GroupBuy.Status
M = GroupBuyMember.Status

# The only legal moves of a group; everything else is refused. A cancelled draft (its initiator's place
# lapsed unpaid) is revived when that initiator's payment arrives after all: the payment opens it.
GROUP_BUY_TRANSITIONS: dict[str, set[str]] = {
    G.AWAITING_INITIATOR: {G.FORMING, G.CANCELLED},
    G.CANCELLED: {G.FORMING},
    G.FORMING: {G.SUCCEEDED, G.EXPIRED},
    G.SUCCEEDED: set(),
    G.EXPIRED: set(),
}


class GroupBuyRefused(ApplicationError):
    def __init__(self, code: str, message: str, status_code: int = 409):
        super().__init__(code, message, status_code=status_code)


def group_buy_transition(*, group: GroupBuy, to: str, now: datetime, updates: dict | None = None) -> None:
    """Move a LOCKED group to `to`, refusing illegal moves, and save it with the times the move implies
    (opened: the deadline starts; succeeded, expired, cancelled: ended). `updates` are other fields
    saved in the same UPDATE (the paid count)."""
    if to not in GROUP_BUY_TRANSITIONS.get(group.status, set()):
        raise ApplicationError(
            "illegal_transition",
            _("拼团当前状态不允许此操作"),
            status_code=409,
            extra={"from": group.status, "to": to},
        )
    group.status = to
    fields = ["status", "ended_at"]
    if to == G.FORMING:
        group.opened_at = now
        group.expires_at = now + group.offer.time_limit
        group.ended_at = None
        fields += ["opened_at", "expires_at"]
    else:
        group.ended_at = now
        if to == G.SUCCEEDED:
            group.succeeded_at = now
            fields.append("succeeded_at")
    for name, value in (updates or {}).items():
        setattr(group, name, value)
        fields.append(name)
    group.save(update_fields=fields)


def seat_hold() -> timedelta:
    """How long a reserved place waits for its payment: the order's lifetime plus a margin."""
    return order_ttl() + timedelta(minutes=5)


def _taken_places(group: GroupBuy, *, now: datetime, exclude_seat_id: int | None = None) -> int:
    qs = group.members.filter(Q(status=M.PAID) | Q(status=M.RESERVED, reserved_until__gt=now))
    if exclude_seat_id is not None:
        qs = qs.exclude(pk=exclude_seat_id)
    return qs.count()


def group_is_over(group: GroupBuy, now: datetime) -> bool:
    if group.status in (G.EXPIRED, G.CANCELLED):
        return True
    return group.status == G.FORMING and group.expires_at is not None and group.expires_at <= now


# ---- open and join ---------------------------------------------------------------------------------------


def group_buy_open(*, user, offer: GroupBuyOffer, now: datetime | None = None) -> GroupBuyMember:
    """Start a group as its initiator. Returns the initiator's reserved seat (pay it to open)."""
    now = now or timezone.now()
    if not offer.is_open_for_new_groups(now):
        raise GroupBuyRefused("group_offer_closed", _("该拼团活动已结束或未开始"), status_code=400)
    items.get(offer.item_type).quote(user=user, item_id=offer.item_id)  # the item must be for sale to them
    with transaction.atomic():
        existing = (
            GroupBuyMember.objects.select_related("group")
            .filter(
                user=user,
                is_initiator=True,
                group__offer=offer,
                group__status=G.AWAITING_INITIATOR,
                status=M.RESERVED,
                reserved_until__gt=now,
            )
            .first()
        )
        if existing is not None:
            return existing
        group = GroupBuy.objects.create(
            offer=offer, initiator=user, size=offer.group_size, price_fen=offer.group_price_fen
        )
        return GroupBuyMember.objects.create(
            group=group, user=user, is_initiator=True, reserved_until=now + seat_hold()
        )


def group_buy_join(*, user, group_id: int, now: datetime | None = None) -> GroupBuyMember:
    """Reserve a place in a forming group (under its row lock). Full or ended groups are refused."""
    now = now or timezone.now()
    with transaction.atomic():
        group = GroupBuy.objects.select_for_update(of=("self",)).filter(pk=group_id).first()
        if group is None:
            raise ApplicationError("not_found", _("拼团不存在"), status_code=404)
        mine = group.members.filter(user=user, status__in=GroupBuyMember.ACTIVE).first()
        if mine is not None and (mine.status == M.PAID or mine.reserved_until > now):
            return mine
        if group.status == G.AWAITING_INITIATOR:
            raise GroupBuyRefused("group_not_open", _("团长尚未付款，暂时不能参团"))
        if group.status == G.SUCCEEDED:
            raise GroupBuyRefused("group_full", _("这个团已经拼成了，去开一个新团吧"))
        if group_is_over(group, now):
            raise GroupBuyRefused("group_expired", _("这个团已过期，去开一个新团吧"))
        if _taken_places(group, now=now) >= group.size:
            raise GroupBuyRefused("group_full", _("这个团的名额已满（有人正在付款），请稍后再看或开一个新团"))
        held_elsewhere = (
            GroupBuyMember.objects.filter(user=user, status=M.RESERVED, reserved_until__gt=now)
            .exclude(group_id=group.pk)
            .count()
        )
        if held_elsewhere >= MAX_UNPAID_RESERVATIONS:
            raise GroupBuyRefused(
                "too_many_reservations", _("你还有未付款的拼团名额，请先完成付款或等待名额释放")
            )
        items.get(group.offer.item_type).quote(user=user, item_id=group.offer.item_id)
        if mine is not None:  # a lapsed reservation of their own: renew it
            mine.reserved_until = now + seat_hold()
            mine.save(update_fields=["reserved_until"])
            return mine
        return GroupBuyMember.objects.create(group=group, user=user, reserved_until=now + seat_hold())


# ---- the `group_buy` item type ------------------------------------------------------------------------


class GroupBuyItemType(items.ItemType):
    """A reserved place in a group, paid at the group price. Item id = GroupBuyMember id."""

    code = ITEM_TYPE
    label = gettext_lazy("拼团")
    refund_window = timedelta(days=3)

    def _seat(self, *, user, item_id: str) -> GroupBuyMember:
        try:
            seat_id = int(item_id)
        except (TypeError, ValueError):
            raise items.ItemUnavailable() from None
        user_pk = getattr(user, "pk", None)
        seat = (
            GroupBuyMember.objects.select_related("group__offer").filter(pk=seat_id, user_id=user_pk).first()
            if user_pk is not None
            else None  # an anonymous visitor holds no seat
        )
        if seat is None:
            raise items.ItemUnavailable(_("拼团名额不存在"))
        return seat

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        seat = self._seat(user=user, item_id=item_id)
        now = timezone.now()
        group = seat.group
        if seat.status != M.RESERVED or seat.reserved_until <= now:
            raise items.ItemUnavailable(_("拼团名额已失效，请重新参团"), code="group_seat_lapsed")
        if group.status not in (G.AWAITING_INITIATOR, G.FORMING) or group_is_over(group, now):
            raise items.ItemUnavailable(_("这个团已结束，去开一个新团吧"), code="group_expired")
        offer = group.offer
        underlying = items.get(offer.item_type).quote(user=user, item_id=offer.item_id)
        list_price = max(underlying.list_price_fen, group.price_fen)
        quote = items.Quote(
            title=(_("拼团：%(title)s") % {"title": offer.title})[:200],
            list_price_fen=list_price,
            context={"group_buy_id": group.pk, "seat_id": seat.pk, "offer_id": offer.pk},
        )
        if list_price > group.price_fen:
            quote = quote.with_line(_("拼团价"), group.price_fen - list_price)
        return quote

    def fulfill(self, *, order) -> None:
        group_seat_paid(order=order)

    def revoke(self, *, order, refund) -> None:
        group_seat_refunded(order=order, refund=refund)

    def refund_window_for(self, *, order) -> timedelta:
        """While forming a member may leave; after success the underlying item's window applies."""
        seat = GroupBuyMember.objects.select_related("group__offer").filter(order_id=order.pk).first()
        if seat is None or order.paid_at is None:
            return self.refund_window
        group = seat.group
        underlying = items.registered().get(group.offer.item_type)
        window = underlying.refund_window if underlying else self.refund_window
        anchor = group.succeeded_at or group.expires_at or order.paid_at
        return max(timedelta(0), anchor - order.paid_at) + window


def _mark_for_refund(seat: GroupBuyMember, *, order, now: datetime, why: str) -> None:
    seat.status = M.REFUNDING
    seat.needs_refund = True
    seat.paid_at = seat.paid_at or now
    seat.save(update_fields=["status", "needs_refund", "paid_at", "order"])
    logger.info("group-buy seat %s paid by %s but %s: refunding", seat.pk, order.order_no, why)
    seat_id = seat.pk
    transaction.on_commit(lambda: _enqueue_refund(seat_id))


def _enqueue_refund(seat_id: int) -> None:
    from referrals import tasks  # cycle: referrals.tasks imports referrals.group_buys

    try:
        tasks.group_buy_refund_seat.delay(seat_id)
    except Exception:  # noqa: BLE001 - broker down: the expiry sweep retries every minute
        logger.exception("could not enqueue group-buy refund of seat %s", seat_id)


def group_seat_paid(*, order) -> GroupBuyMember:
    """Fulfil a paid seat (inside the paid transaction; payments holds the order lock)."""
    now = order.paid_at or timezone.now()
    seat_id = int(order.item_id)
    group_id = GroupBuyMember.objects.values_list("group_id", flat=True).get(pk=seat_id)
    group = lock_group(group_id)
    seat = GroupBuyMember.objects.select_for_update(of=("self",)).get(pk=seat_id)
    if seat.order_id == order.pk and seat.status != M.RESERVED:
        return seat  # already recorded (fulfil runs once per order; belt and braces)
    if seat.order_id is not None and seat.order_id != order.pk:
        # The same seat paid through a second order: that payment gets its own row, refunded.
        extra = GroupBuyMember(
            group=group, user_id=seat.user_id, status=M.REFUNDING, reserved_until=now, order=order
        )
        extra.save()
        _mark_for_refund(extra, order=order, now=now, why="a second order for one seat")
        return extra
    seat.order = order
    other_active = (
        group.members.filter(user_id=seat.user_id, status__in=GroupBuyMember.ACTIVE)
        .exclude(pk=seat.pk)
        .exists()
    )
    opens_group = group.status in (G.AWAITING_INITIATOR, G.CANCELLED)
    if opens_group:
        # Only the initiator's payment opens a group (a lapsed, cancelled draft is revived).
        if not seat.is_initiator or other_active or not group.offer.is_active:
            _mark_for_refund(seat, order=order, now=now, why=f"group {group.status}")
            return seat
    elif group.status == G.SUCCEEDED or group_is_over(group, now) or other_active:
        _mark_for_refund(seat, order=order, now=now, why=f"group {group.status}")
        return seat
    elif (seat.status != M.RESERVED or seat.reserved_until <= now) and _taken_places(
        group, now=now, exclude_seat_id=seat.pk
    ) >= group.size:
        _mark_for_refund(seat, order=order, now=now, why="group full")
        return seat
    seat.status = M.PAID
    seat.paid_at = now
    seat.save(update_fields=["status", "paid_at", "order"])
    paid_count = group.members.filter(status=M.PAID).count()
    if opens_group:
        group_buy_transition(group=group, to=G.FORMING, now=now, updates={"paid_count": paid_count})
    if paid_count >= group.size:
        group_buy_transition(group=group, to=G.SUCCEEDED, now=now, updates={"paid_count": paid_count})
    elif not opens_group:
        group.paid_count = paid_count
        group.save(update_fields=["paid_count"])
    if group.status == G.SUCCEEDED:
        _grant_all(group)
        _notify_group(group, success=True)
    elif seat.is_initiator:
        notify_member(
            user=seat.user,
            kind="group_buy_opened",
            title=_("开团成功，邀请好友一起拼"),
            body=_("还差 %(n)s 人成团，%(hours)s 小时内有效。")
            % {
                "n": group.size - group.paid_count,
                "hours": group.offer.time_limit_hours,
            },
            url=f"/referrals/group-buys/{group.pk}/",
        )
    return seat


def _grant_all(group: GroupBuy) -> None:
    for seat in group.members.select_for_update(of=("self",)).filter(
        status=M.PAID, granted_order__isnull=True
    ):
        group_seat_grant(seat=seat, group=group)


def group_seat_grant(*, seat: GroupBuyMember, group: GroupBuy) -> None:
    """Give one paid member the underlying item (a zero-amount order). Caller holds the seat lock."""
    if seat.granted_order_id is not None or seat.status != M.PAID:
        return
    offer = group.offer
    try:
        with transaction.atomic():
            granted = order_create_free(
                user=seat.user,
                item_type=offer.item_type,
                item_id=offer.item_id,
                reason=f"拼团#{group.pk}",
                channel=ITEM_TYPE,
                funded_by=seat.order,
            )
            seat.granted_order = granted
            seat.grant_error = ""
            seat.save(update_fields=["granted_order", "grant_error"])
    except ApplicationError as exc:
        # The item refuses this member for good (already holds it, holds a higher tier …): like a
        # second payment for something already held, the seat's money goes back.
        logger.warning("group-buy seat %s: grant refused (%s), refunding", seat.pk, exc.code)
        seat.grant_error = f"{exc.code}: {exc.message}"[:255]
        seat.status = M.REFUNDING
        seat.needs_refund = True
        seat.save(update_fields=["grant_error", "status", "needs_refund"])
        seat_id = seat.pk
        transaction.on_commit(lambda: group_buy_refund_seat(seat_id=seat_id))
    except Exception as exc:  # noqa: BLE001 - the payment stays recorded; the sweep retries the grant
        logger.exception("group-buy seat %s: grant failed", seat.pk)
        seat.grant_error = str(exc)[:255]
        seat.save(update_fields=["grant_error"])


def group_seat_refunded(*, order, refund) -> None:
    """Revoke for a completed refund of a seat's order (inside the refund transaction)."""
    seat = GroupBuyMember.objects.filter(order_id=order.pk).first()
    if seat is None:
        return
    group = lock_group(seat.group_id)
    seat = GroupBuyMember.objects.select_for_update(of=("self",)).get(pk=seat.pk)
    fully = order.refunded_fen >= order.amount_fen
    if seat.granted_order_id is not None:
        _revoke_grant(seat=seat, order=order, refund=refund)
    if not fully:
        return
    was_counted = seat.status == M.PAID
    seat.status = M.REFUNDED
    seat.needs_refund = False
    seat.save(update_fields=["status", "needs_refund"])
    if was_counted and group.status == G.FORMING:
        group.paid_count = group.members.filter(status=M.PAID).count()
        group.save(update_fields=["paid_count"])


def _revoke_grant(*, seat: GroupBuyMember, order, refund) -> None:
    """Take back the underlying item in proportion to the refund of the paid group order.

    The item type sees its own grant order (its idempotency anchor) carrying the paid order's
    amounts, so partial and full refunds revoke exactly what they would for a direct purchase.
    """
    assert seat.granted_order_id is not None  # the caller revokes only granted seats
    granted = Order.objects.get(pk=seat.granted_order_id)
    proxy = copy.copy(granted)
    proxy.amount_fen = order.amount_fen
    proxy.list_price_fen = order.list_price_fen
    proxy.refunded_fen = order.refunded_fen
    items.get(granted.item_type).revoke(order=proxy, refund=refund)


# ---- sweep and automatic refunds -------------------------------------------------------------------------


def group_buys_expire(*, now: datetime | None = None, batch_size: int = 100) -> dict[str, int]:
    """Expire groups past their deadline, cancel unopened ones, refund paid members, retry grants."""
    now = now or timezone.now()
    counts = {"expired": 0, "cancelled": 0, "released": 0, "refunds": 0, "grants": 0}
    while True:
        with transaction.atomic():
            due = list(
                GroupBuy.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("offer")
                .filter(status=G.FORMING, expires_at__lte=now)
                .order_by("expires_at")[:batch_size]
            )
            for group in due:
                group_buy_transition(group=group, to=G.EXPIRED, now=now)
                group.members.filter(status=M.PAID).update(status=M.REFUNDING, needs_refund=True)
                group.members.filter(status=M.RESERVED).update(status=M.CANCELLED)
                counts["expired"] += 1
                transaction.on_commit(functools.partial(_notify_group, group, success=False))
        if len(due) < batch_size:
            break
    with transaction.atomic():
        stale = list(
            GroupBuy.objects.select_for_update(of=("self",), skip_locked=True).filter(
                status=G.AWAITING_INITIATOR,
                members__is_initiator=True,
                members__status__in=[M.RESERVED, M.CANCELLED],
                members__reserved_until__lte=now,
            )[:batch_size]
        )
        for group in stale:
            group_buy_transition(group=group, to=G.CANCELLED, now=now)
            group.members.filter(status=M.RESERVED).update(status=M.CANCELLED)
            counts["cancelled"] += 1
    counts["released"] = GroupBuyMember.objects.filter(
        status=M.RESERVED, reserved_until__lte=now, group__status__in=[G.FORMING, G.SUCCEEDED]
    ).update(status=M.CANCELLED)
    for seat_id in seats_due_for_refund()[: batch_size * 10]:
        if group_buy_refund_seat(seat_id=seat_id):
            counts["refunds"] += 1
    for seat_id in GroupBuyMember.objects.filter(
        status=M.PAID, granted_order__isnull=True, group__status=G.SUCCEEDED
    ).values_list("pk", flat=True)[:batch_size]:
        counts["grants"] += group_buy_retry_grant(seat_id=seat_id)
    return counts


def seats_due_for_refund() -> list[int]:
    return list(
        GroupBuyMember.objects.filter(
            needs_refund=True, order__status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def group_buy_refund_seat(*, seat_id: int) -> bool:
    """Ask payments to refund a seat that must be refunded (not inside any lock of ours). Idempotent."""
    seat = GroupBuyMember.objects.select_related("order", "group").filter(pk=seat_id).first()
    if seat is None or not seat.needs_refund or seat.order is None:
        return False
    order = seat.order
    if order.status not in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
        return False
    if seat.group.status == G.EXPIRED:
        reason = _("拼团未成团，自动退款")
    elif seat.grant_error:
        reason = _("你已拥有该权益，拼团款自动退回")
    else:
        reason = _("拼团名额已满或已结束，自动退款")
    try:
        refund_system_request(order=order, reason=reason, cause=f"group_buy_seat:{seat_id}")
    except ApplicationError as exc:
        logger.info("group-buy seat %s refund not started: %s", seat_id, exc.code)
        return False
    return True


def group_buy_retry_grant(*, seat_id: int) -> int:
    with transaction.atomic():
        seat = GroupBuyMember.objects.filter(pk=seat_id).values_list("group_id", flat=True).first()
        if seat is None:
            return 0
        group = lock_group(seat)
        locked = GroupBuyMember.objects.select_for_update(of=("self",)).get(pk=seat_id)
        before = locked.granted_order_id
        group_seat_grant(seat=locked, group=group)
        return int(before is None and locked.granted_order_id is not None)


# ---- notifications ---------------------------------------------------------------------------------------


def _notify_group(group: GroupBuy, *, success: bool) -> None:
    members = GroupBuyMember.objects.select_related("user").filter(
        group=group, status__in=[M.PAID] if success else [M.REFUNDING, M.REFUNDED]
    )
    for seat in members:
        if success:
            notify_member(
                user=seat.user,
                kind="group_buy_succeeded",
                title=_("拼团成功：%(title)s") % {"title": group.offer.title[:40]},
                body=_("%(n)s 人已成团，购买内容已开通。") % {"n": group.size},
                url=f"/referrals/group-buys/{group.pk}/",
                subscribe_template="group_buy_result",
            )
        else:
            notify_member(
                user=seat.user,
                kind="group_buy_expired",
                title=_("拼团未成功，已自动退款：%(title)s") % {"title": group.offer.title[:40]},
                body=_("在时限内没有凑齐 %(n)s 人，款项将原路退回。") % {"n": group.size},
                url=f"/referrals/group-buys/{group.pk}/",
                subscribe_template="group_buy_result",
            )
