"""Commission rules, accrual on paid orders, reversal on refunds, and point rewards.

- `commission_accrue_for_order(order)` is a payments paid listener: it runs once, inside the
  transaction that marks the order paid (payments holds the order lock), after fulfilment.
  One `Commission` per (order, level) — the unique constraint is the idempotency key, and the
  ledger call carries the same key, so duplicate notifications can never pay twice.
- Cash rewards are held in the ledger until the item's refund window has passed
  (`hold_until = paid_at + refund window`); `payments.wallet.settlement.settle_due` makes them available.
- `commission_reverse_for_refund(order, refund)` is a refunded listener: the beneficiary keeps
  floor(rate × (paid − refunded)); the difference is voided while held or clawed back after
  settlement (the ledger decides which). The rounding remainder stays with the platform.
- Point rewards (per rule) are awarded by a sweep once the same hold has passed.
- A commission is created accrued or skipped; after that its status moves only through
  `commission_transition`, which refuses any move `COMMISSION_TRANSITIONS` does not list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.money import apply_bp, fen_to_yuan_text
from members.memberships.selectors import active_membership
from members.points.services import points_award, points_clawback
from payments import items
from payments.wallet import earnings
from referrals import agreements, attribution, notifications, promoters
from referrals.models import (
    Commission,
    CommissionRule,
    GroupBuyMember,
    Promoter,
    PromoterLevel,
    ReferralSettings,
    RewardKind,
)

logger = logging.getLogger(__name__)

SOURCES = {1: "commission", 2: "commission_l2"}

C = Commission.Status

# The only legal moves of a commission (it is created accrued or skipped); everything else is refused.
# A further partial refund keeps a partially reversed commission partially reversed.
COMMISSION_TRANSITIONS: dict[str, set[str]] = {
    C.ACCRUED: {C.PARTIALLY_REVERSED, C.REVERSED},
    C.PARTIALLY_REVERSED: {C.PARTIALLY_REVERSED, C.REVERSED},
    C.REVERSED: set(),
    C.SKIPPED: set(),
}


def commission_transition(*, commission: Commission, to: str, updates: dict | None = None) -> None:
    """Move a LOCKED commission to `to`, refusing illegal moves; `updates` are other fields saved in
    the same UPDATE (the reversed amount, points taken back)."""
    if to not in COMMISSION_TRANSITIONS.get(commission.status, set()):
        raise ApplicationError(
            "illegal_transition",
            _("该笔收益当前状态不允许此操作"),
            status_code=409,
            extra={"from": commission.status, "to": to},
        )
    commission.status = to
    fields = ["status"]
    for name, value in (updates or {}).items():
        setattr(commission, name, value)
        fields.append(name)
    commission.save(update_fields=fields)


@dataclass(frozen=True)
class Rate:
    rate_bp: int
    reward_kind: str = RewardKind.CASH
    points_per_yuan: int = 0
    rule: CommissionRule | None = None


NO_RATE = Rate(0)


def rate_for(*, item_type: str, item_id: str, level: int, promoter_level: PromoterLevel | None) -> Rate:
    """The most specific active rule: item+level, type+level, the level's own rate, item, type."""
    if level == 2 and ReferralSettings.current().commission_depth < 2:
        return NO_RATE
    rules = list(
        CommissionRule.objects.filter(
            Q(promoter_level__isnull=True) | Q(promoter_level_id=getattr(promoter_level, "pk", None)),
            item_type=item_type,
            item_id__in=[str(item_id), ""],
            level=level,
            is_active=True,
        )
    )

    def pick(*, specific_item: bool, for_level: bool) -> CommissionRule | None:
        for rule in rules:
            if (rule.item_id != "") == specific_item and (rule.promoter_level_id is not None) == for_level:
                return rule
        return None

    def as_rate(rule: CommissionRule) -> Rate:
        return Rate(rule.rate_bp, rule.reward_kind, rule.points_per_yuan, rule)

    for specific_item in (True, False):
        rule = pick(specific_item=specific_item, for_level=True)
        if rule is not None:
            return as_rate(rule)
    generic = pick(specific_item=True, for_level=False) or pick(specific_item=False, for_level=False)
    if generic is None:
        return NO_RATE  # the item is not in the programme
    if level == 1 and promoter_level is not None and promoter_level.commission_rate_bp is not None:
        return Rate(promoter_level.commission_rate_bp, generic.reward_kind, generic.points_per_yuan, generic)
    return as_rate(generic)


def points_for(amount_fen: int, points_per_yuan: int) -> int:
    return amount_fen * points_per_yuan // 100


def _hold_until(order) -> datetime:
    return (order.paid_at or timezone.now()) + items.get(order.item_type).refund_window_for(order=order)


def _skip_reason(*, beneficiary, buyer, conf: ReferralSettings) -> str:
    if Promoter.objects.filter(user_id=beneficiary.pk, is_blocked=True).exists():
        return Commission.SkipReason.BLOCKED
    reason = attribution.referral_block_reason(user=buyer, referrer=beneficiary)
    if reason in (attribution.Refusal.SAME_WECHAT, attribution.Refusal.SAME_PHONE):
        return Commission.SkipReason.SAME_PERSON
    if not agreements.agreement_accepted(beneficiary):
        return Commission.SkipReason.AGREEMENT
    if conf.earning_requires_membership and active_membership(beneficiary) is None:
        return Commission.SkipReason.MEMBERSHIP
    return ""


def _beneficiaries(order, conf: ReferralSettings) -> list[tuple[int, object]]:
    first = order.referrer
    if first is None or first.pk == order.user_id:
        return []
    result = [(1, first)]
    if conf.commission_depth >= 2:
        upline = attribution.active_binding(first)
        second = upline.referrer if upline is not None else None
        if second is not None and second.pk not in (order.user_id, first.pk):
            result.append((2, second))
    return result


def commission_accrue_for_order(order) -> list[Commission]:
    """Paid listener: bind on first purchase, accrue commission per level, upgrade the promoter."""
    if order.amount_fen <= 0:
        return []
    attribution.binding_on_first_purchase(order)
    if order.referrer_id is None:
        return []
    if (
        order.item_type == "group_buy"
        and GroupBuyMember.objects.filter(order_id=order.pk, needs_refund=True).exists()
    ):
        return []  # paid into a full or ended group: refunded automatically, never a sale
    conf = ReferralSettings.current()
    created: list[Commission] = []
    for level, beneficiary in _beneficiaries(order, conf):
        if Commission.objects.filter(order_id=order.pk, level=level).exists():
            continue
        commission = _accrue_one(order=order, level=level, beneficiary=beneficiary, conf=conf)
        if commission is not None:
            created.append(commission)
    if created:
        promoters.promoter_auto_upgrade(user=order.referrer)
    return created


def _accrue_one(*, order, level: int, beneficiary, conf: ReferralSettings) -> Commission | None:
    promoter_level = promoters.promoter_level_of(beneficiary)
    rate = rate_for(
        item_type=order.item_type, item_id=order.item_id, level=level, promoter_level=promoter_level
    )
    if rate.rate_bp <= 0:
        return None
    amount = apply_bp(order.amount_fen, rate.rate_bp)
    if amount <= 0:
        return None
    skip = _skip_reason(beneficiary=beneficiary, buyer=order.user, conf=conf)
    key = f"commission:{order.order_no}:L{level}"
    commission = Commission.objects.create(
        order=order,
        level=level,
        beneficiary=beneficiary,
        buyer_id=order.user_id,
        item_type=order.item_type,
        base_fen=order.amount_fen,
        rate_bp=rate.rate_bp,
        amount_fen=amount,
        reward_kind=rate.reward_kind,
        points_per_yuan=rate.points_per_yuan if rate.reward_kind == RewardKind.POINTS else 0,
        status=Commission.Status.SKIPPED if skip else Commission.Status.ACCRUED,
        skip_reason=skip,
        rule=rate.rule,
        promoter_level=promoter_level,
        hold_until=_hold_until(order),
        idempotency_key=key,
    )
    title_args = {"title": order.title[:40], "amount": fen_to_yuan_text(amount, always_decimals=True)}
    if skip:
        if skip == Commission.SkipReason.AGREEMENT:
            notifications.notify_member(
                user=beneficiary,
                kind="referral_commission_skipped",
                title=_("有一笔推广成交：请先同意推广员协议"),
                body=_("「%(title)s」成交，同意最新的推广员协议后，之后的推广成交才能获得佣金。")
                % title_args,
                url="/referrals/agreement/",
            )
        return commission
    if rate.reward_kind == RewardKind.CASH:
        earning = earnings.earning_accrue(
            user=beneficiary,
            amount_fen=amount,
            source=SOURCES[level],
            idempotency_key=key,
            hold_until=commission.hold_until,
            order=order,
            description=(_("推广佣金：%(title)s") if level == 1 else _("二级推广佣金：%(title)s"))
            % title_args,
        )
        commission.earning = earning
        commission.save(update_fields=["earning"])
        title = _("推广成交，佣金 %(amount)s 待结算") % title_args
    else:
        title = _("推广成交，积分奖励待发放（约 %(points)s 积分）") % {
            "points": points_for(amount, rate.points_per_yuan)
        }
    notifications.notify_member(
        user=beneficiary,
        kind="referral_commission",
        title=title,
        body=_("「%(title)s」已付款，退款期过后结算。") % title_args,
        url="/referrals/",
        subscribe_template="referral_commission",
    )
    return commission


def commission_reverse_for_refund(order, refund) -> list[Commission]:
    """Refunded listener: keep floor(rate × net paid) per commission; reverse the rest (idempotent)."""
    changed: list[Commission] = []
    commissions = (
        Commission.objects.select_for_update(of=("self",))
        .filter(order_id=order.pk)
        .exclude(status=Commission.Status.SKIPPED)
        .order_by("level")
    )
    net_paid = max(0, order.amount_fen - order.refunded_fen)
    for commission in commissions:
        keep = min(commission.amount_fen, apply_bp(min(net_paid, commission.base_fen), commission.rate_bp))
        target_reversed = commission.amount_fen - keep
        delta = target_reversed - commission.reversed_fen
        if delta <= 0:
            continue
        reason = _("订单退款 %(no)s") % {"no": refund.out_refund_no}
        key = f"commission-reverse:{refund.out_refund_no}:L{commission.level}"
        if commission.reward_kind == RewardKind.CASH and commission.earning is not None:
            earnings.earning_reverse(
                earning=commission.earning, amount_fen=delta, idempotency_key=key, reason=reason
            )
        elif commission.reward_kind == RewardKind.POINTS and commission.points_awarded:
            _points_take_back(commission=commission, keep_fen=keep, key=key, reason=reason)
        commission_transition(
            commission=commission,
            to=C.REVERSED if keep == 0 else C.PARTIALLY_REVERSED,
            updates={"reversed_fen": target_reversed, "points_clawed_back": commission.points_clawed_back},
        )
        changed.append(commission)
    return changed


def _points_take_back(*, commission: Commission, keep_fen: int, key: str, reason: str) -> None:
    owed = commission.points_awarded - points_for(keep_fen, commission.points_per_yuan)
    owed -= commission.points_clawed_back
    if owed <= 0:
        return
    entry = points_clawback(user=commission.beneficiary, amount=owed, reason=reason, idempotency_key=key)
    taken = -entry.amount if entry is not None else 0
    commission.points_clawed_back += taken
    if taken < owed:
        logger.warning(
            "commission %s: %s points could not be taken back (balance too low)", commission.pk, owed - taken
        )


def commission_points_release(*, now: datetime | None = None, limit: int = 500) -> int:
    """Award point rewards whose hold has passed (net of refunds). Each row once; safe to re-run."""
    now = now or timezone.now()
    due = list(
        Commission.objects.filter(
            reward_kind=RewardKind.POINTS,
            status__in=[Commission.Status.ACCRUED, Commission.Status.PARTIALLY_REVERSED],
            points_awarded_at__isnull=True,
            hold_until__lte=now,
        )
        .order_by("hold_until")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for pk in due:
        with transaction.atomic():
            commission = (
                Commission.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("order")
                .filter(pk=pk, points_awarded_at__isnull=True)
                .first()
            )
            if commission is None or commission.status not in (
                Commission.Status.ACCRUED,
                Commission.Status.PARTIALLY_REVERSED,
            ):
                continue
            points = points_for(commission.net_fen, commission.points_per_yuan)
            if points > 0:
                points_award(
                    user=commission.beneficiary,
                    amount=points,
                    reason=_("推广奖励：%(title)s") % {"title": commission.order.title[:40]},
                    idempotency_key=f"commission-points:{commission.order.order_no}:L{commission.level}",
                )
            commission.points_awarded = points
            commission.points_awarded_at = now
            commission.save(update_fields=["points_awarded", "points_awarded_at"])
            released += 1
    return released
