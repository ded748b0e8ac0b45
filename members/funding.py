"""What a refund means for the benefits members' orders funded: membership days, upgrade credit, points.

docs/architecture.md §4 "Benefits and what funds them": a benefit exists only while what funded it is
paid. Each funding chain below has one rule, registered with `payments.items.add_refund_terms`, so
the refund preview the member reads and the refund itself (`payments.orders.refunds.refund_request`) say
the same thing. The chains members owns, and what a refund of the funding order does:

| funding chain                              | refund of the funding order                              |
|--------------------------------------------|----------------------------------------------------------|
| order → membership days (start, renew)     | the days still in the current window are taken back      |
| order → upgrade credit used by an upgrade  | refused (`credit_used`) until the upgrade is refunded     |
| upgrade → a renewal bought on top of it    | refused (`renewed_after`) until the renewal is refunded   |
| any membership order → a membership order  | refused (`membership_order_pending`) while another is     |
|   bought during its refund                 | unpaid; while the refund is in flight no membership order |
|                                            | is priced (`membership_refund_in_progress`, checkout)     |
| order → points earned → rewards, discounts | the points are taken back when the refund is requested;   |
|                                            | if the balance no longer holds them, refused              |
|                                            | (`points_spent`; an operator may refund a smaller amount, |
|                                            | at most what the balance still covers)                    |
| group-buy seat → the gift order            | the gift's days end; it is worth what the seat paid       |

Why refuse rather than deduct or revoke: the credit became part of a paid KA window and the points
became other benefits (VIP days from the points mall, a course) whose own orders are free; taking
those back by surprise, or pricing points in yuan, is what members dispute. A clear refusal with the
way out ("refund the upgrade first", "at most ¥X") is what a merchant's support desk would say, and
nothing of value leaves without being paid for.

Refunds the system starts because it could not deliver (event or term full, paid twice, a group
that expired) are never refused: they take back what the balance holds.
"""

from __future__ import annotations

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.memberships.selectors import MEMBERSHIP_ITEM_TYPES
from members.models import MembershipGrant, PointsAccount, PointsEntry
from members.points.services import points_clawback, points_per_yuan, points_post
from payments import items
from payments.items import RefundTerm
from payments.models import Order


def refund_points_key(order, refund) -> str:
    """The idempotency key of the points a refund takes back (reserved at request, kept at success)."""
    return f"order-refund:{order.order_no}:{refund.out_refund_no}"


def _undo_key(order, refund) -> str:
    return f"order-refund-undo:{order.order_no}:{refund.out_refund_no}"


def _funded_order_nos(order) -> list[str]:
    """The order and the gift orders it paid for (a group-buy seat's gift)."""
    return [order.order_no, *Order.objects.filter(funded_by=order).values_list("order_no", flat=True)]


def _sum(queryset) -> int:
    return int(queryset.aggregate(total=Sum("amount"))["total"] or 0)


def points_outstanding(order) -> int:
    """Points `order` (and its gifts) earned that no refund has taken back yet."""
    earned = _sum(
        PointsEntry.objects.filter(
            idempotency_key__in=[f"order-paid:{no}" for no in _funded_order_nos(order)]
        )
    )
    moved = _sum(
        PointsEntry.objects.filter(
            Q(idempotency_key__startswith=f"order-refund:{order.order_no}:")
            | Q(idempotency_key__startswith=f"order-refund-undo:{order.order_no}:")
        )
    )
    return max(0, earned + moved)


def points_owed(*, order, amount_fen: int) -> int:
    """Points a refund of `amount_fen` takes back: all that is left for the last of the money, else
    the points that part earned (POINTS_PER_YUAN per whole yuan)."""
    outstanding = points_outstanding(order)
    if amount_fen >= order.amount_fen - order.refunded_fen:
        return outstanding
    return min(outstanding, amount_fen // 100 * points_per_yuan())


def _points_balance(user_id: int) -> int:
    return int(PointsAccount.objects.filter(user_id=user_id).values_list("balance", flat=True).first() or 0)


def points_refund_terms(*, order, amount_fen: int) -> list[RefundTerm]:
    owed = points_owed(order=order, amount_fen=amount_fen)
    if owed <= 0:
        return []
    balance = _points_balance(order.user_id)
    if balance >= owed:
        return [RefundTerm(_("扣回本订单赠送的 %(n)s 积分") % {"n": owed})]
    # The largest partial amount whose points the balance still covers (operators may refund it).
    most_fen = max(0, min(order.amount_fen - order.refunded_fen - 1, balance // points_per_yuan() * 100 + 99))
    return [
        RefundTerm(
            _("本订单赠送的 %(owed)s 积分已使用（当前余额 %(balance)s），不能退款；如需帮助请联系客服。")
            % {"owed": owed, "balance": balance},
            refusal_code="points_spent",
            extra={"points_owed": owed, "points_balance": balance, "max_refund_fen": most_fen},
        )
    ]


def points_reserve(order, refund) -> None:
    """Refund requested: take the points back now, so nothing can spend them while WeChat refunds.

    A person's refund was checked by `points_refund_terms` (the balance covers it); a system refund
    takes what the balance holds.
    """
    owed = points_owed(order=order, amount_fen=refund.amount_fen)
    if owed <= 0:
        return
    points_post(
        user_id=order.user_id,
        amount=-owed,
        reason=_("退款「%(title)s」扣回积分") % {"title": order.title[:60]},
        idempotency_key=refund_points_key(order, refund),
        cap_at_balance=refund.requested_by_id is None,
    )


def points_release(order, refund) -> None:
    """The refund ended without money moving: give the reserved points back (once)."""
    reserved = PointsEntry.objects.filter(idempotency_key=refund_points_key(order, refund)).first()
    if reserved is None or reserved.amount >= 0:
        return
    points_post(
        user_id=order.user_id,
        amount=-reserved.amount,
        reason=_("退款未成功，退回扣回的积分"),
        idempotency_key=_undo_key(order, refund),
    )


def points_for_order_refunded(order, refund) -> None:
    """Refunded listener: take back the points the refunded part earned. Normally already taken when
    the refund was requested (`points_reserve`, under the same key): then a no-op."""
    owed = points_owed(order=order, amount_fen=refund.amount_fen)
    points_clawback(
        user=order.user,
        amount=owed,
        reason=_("退款「%(title)s」扣回积分") % {"title": order.title[:60]},
        idempotency_key=refund_points_key(order, refund),
    )


def _grants_funded_by(order):
    return MembershipGrant.objects.select_related("tier", "credit_consumed_by__order").filter(
        Q(order=order) | Q(order__in=Order.objects.filter(funded_by=order)), revoked_at__isnull=True
    )


def _renewed_on_top(upgrade: MembershipGrant) -> bool:
    """A later grant in force stands on this upgrade's window (a renewal of the upgraded tier):
    undoing the upgrade would take the tier that renewal paid for, so it is refunded first."""
    return (
        MembershipGrant.objects.filter(
            membership_id=upgrade.membership_id,
            revoked_at__isnull=True,
            starts_after__gte=upgrade.starts_after,
            created_at__gte=upgrade.created_at,
        )
        .exclude(pk=upgrade.pk)
        .exists()
    )


def _membership_order_awaiting_payment(order) -> Order | None:
    """Another membership order of the buyer that may still be paid: paid during this refund, its
    renewal, upgrade or days would stand on the window the refund takes back."""
    return (
        Order.objects.filter(
            user_id=order.user_id,
            item_type__in=MEMBERSHIP_ITEM_TYPES,
            status=Order.Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        .exclude(pk=order.pk)
        .only("order_no")
        .first()
    )


def membership_refund_terms(*, order, amount_fen: int) -> list[RefundTerm]:
    terms = []
    full = amount_fen >= order.amount_fen - order.refunded_fen
    if order.item_type in MEMBERSHIP_ITEM_TYPES and (waiting := _membership_order_awaiting_payment(order)):
        # The other half of `membership_for_checkout`'s rule: no membership order is priced while a
        # membership refund is in flight, and none may be paid once one starts.
        terms.append(
            RefundTerm(
                _("您还有会员订单 %(no)s 待支付，请先支付或取消该订单，再申请退款。")
                % {"no": waiting.order_no},
                refusal_code="membership_order_pending",
                extra={"pending_order_no": waiting.order_no},
            )
        )
    for grant in _grants_funded_by(order):
        upgrade = grant.credit_consumed_by
        if upgrade is not None and upgrade.revoked_at is None:
            upgrade_no = upgrade.order.order_no if upgrade.order_id else ""
            terms.append(
                RefundTerm(
                    _(
                        "本订单的%(tier)s剩余价值已折抵升级订单 %(no)s，不能单独退款；"
                        "请先退升级订单，或联系客服。"
                    )
                    % {"tier": grant.tier.name, "no": upgrade_no or "-"},
                    refusal_code="credit_used",
                    extra={"upgrade_order_no": upgrade_no},
                )
            )
        elif grant.kind == MembershipGrant.Kind.UPGRADE and _renewed_on_top(grant):
            terms.append(
                RefundTerm(
                    _("本次升级之后已续费%(tier)s，请先退续费订单，或联系客服。") % {"tier": grant.tier.name},
                    refusal_code="renewed_after",
                )
            )
        elif full:
            ends = timezone.localtime(grant.ends_after).strftime("%Y-%m-%d")
            terms.append(
                RefundTerm(
                    _("收回%(tier)s %(days)s 天（本单开通至 %(ends)s）")
                    % {"tier": grant.tier.name, "days": grant.days, "ends": ends}
                )
            )
    return terms


def connect() -> None:
    """Wire the rules and listeners into payments (called from MembersConfig.ready)."""
    items.on_refunded(points_for_order_refunded)
    items.add_refund_terms(membership_refund_terms)
    items.add_refund_terms(points_refund_terms)
    items.on_refund_requested(points_reserve)
    items.on_refund_failed(points_release)
