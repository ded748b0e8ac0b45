"""Reads of the referrals app, shared by pages and the API (one rule for what a member may see)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from payments.models import Order
from payments.wallet import ledger
from referrals.models import (
    Commission,
    GroupBuy,
    GroupBuyMember,
    GroupBuyOffer,
    LinkChannel,
    ReferralBinding,
    ReferralLinkStat,
    ReferralSettings,
    RewardKind,
)

# A user's acquisition channel when no referral binding brought them (the dashboard's 自然流量).
DIRECT = "direct"


def acquisition_channel(outer: str = "pk"):
    """The channel of the outer user's first referral binding (ended or not), or DIRECT: how a user
    was acquired, one definition for the dashboard (insights.metrics.funnel) and segments (growth)."""
    first = ReferralBinding.objects.filter(user=OuterRef(outer)).order_by("id")
    return Coalesce(Subquery(first.values("channel")[:1]), Value(DIRECT))


def mask_name(name: str) -> str:
    """'张小明' → '张**' (other members see masked names on leaderboards and invite lists)."""
    name = (name or "").strip()
    if not name:
        return "***"
    return name[0] + "**"


# ---- referral center -------------------------------------------------------------------------------------


def invited_bindings(user) -> QuerySet[ReferralBinding]:
    """People this user brought (open bindings), newest first, with whether they have paid."""
    paid = Order.objects.filter(
        user_id=OuterRef("user_id"),
        amount_fen__gt=0,
        status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDING],
    )
    return (
        ReferralBinding.objects.filter(referrer_id=user.pk, ended_at__isnull=True)
        .select_related("user")
        .annotate(has_paid=Exists(paid))
        .order_by("-bound_at", "-id")
    )


def invited_count(user) -> int:
    now = timezone.now()
    return (
        ReferralBinding.objects.filter(referrer_id=user.pk, ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )


def commissions_of(user) -> QuerySet[Commission]:
    return (
        Commission.objects.filter(beneficiary_id=user.pk)
        .select_related("order", "earning", "buyer")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class EarningsByState:
    pending_fen: int
    available_fen: int
    withdrawing_fen: int
    withdrawn_fen: int
    receivable_fen: int
    commission_total_fen: int  # net cash commission ever accrued (after reversals)
    reversed_fen: int
    skipped_fen: int
    points_pending: int
    points_awarded: int


def earnings_by_state(user) -> EarningsByState:
    balances = ledger.balances(user)
    rows = Commission.objects.filter(beneficiary_id=user.pk).aggregate(
        cash=Sum(
            F("amount_fen") - F("reversed_fen"),
            filter=Q(reward_kind=RewardKind.CASH) & ~Q(status=Commission.Status.SKIPPED),
        ),
        reversed=Sum("reversed_fen"),
        skipped=Sum("amount_fen", filter=Q(status=Commission.Status.SKIPPED)),
        points_awarded=Sum(F("points_awarded") - F("points_clawed_back")),
    )
    pending_points = 0
    for net, per_yuan in Commission.objects.filter(
        beneficiary_id=user.pk,
        reward_kind=RewardKind.POINTS,
        points_awarded_at__isnull=True,
        status__in=[Commission.Status.ACCRUED, Commission.Status.PARTIALLY_REVERSED],
    ).values_list(F("amount_fen") - F("reversed_fen"), "points_per_yuan"):
        pending_points += net * per_yuan // 100
    return EarningsByState(
        pending_fen=balances.pending_fen,
        available_fen=balances.available_fen,
        withdrawing_fen=balances.withdrawing_fen,
        withdrawn_fen=balances.withdrawn_fen,
        receivable_fen=balances.receivable_fen,
        commission_total_fen=int(rows["cash"] or 0),
        reversed_fen=int(rows["reversed"] or 0),
        skipped_fen=int(rows["skipped"] or 0),
        points_pending=pending_points,
        points_awarded=int(rows["points_awarded"] or 0),
    )


def link_stats(user) -> list[dict]:
    labels = dict(LinkChannel.choices)
    return [
        {
            "channel": row.channel,
            "label": str(labels.get(row.channel, row.channel)),
            "visits": row.visits,
            "signups": row.signups,
        }
        for row in ReferralLinkStat.objects.filter(user_id=user.pk).order_by("-visits", "channel")
    ]


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    user_id: int
    name: str
    amount_fen: int
    orders: int


def leaderboard(*, since: datetime | None = None, size: int | None = None) -> list[LeaderRow]:
    """Top promoters by net commission (cash value) earned on sales since `since` (default: this month)."""
    if since is None:
        today = timezone.localtime()
        since = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    size = size or ReferralSettings.current().leaderboard_size
    rows = (
        Commission.objects.filter(created_at__gte=since, level=1)
        .exclude(status__in=[Commission.Status.SKIPPED, Commission.Status.REVERSED])
        .values("beneficiary_id", "beneficiary__nickname", "beneficiary__username")
        .annotate(total=Sum(F("amount_fen") - F("reversed_fen")), orders=Count("id"))
        .order_by("-total", "beneficiary_id")[:size]
    )
    return [
        LeaderRow(
            rank=index + 1,
            user_id=row["beneficiary_id"],
            name=mask_name(row["beneficiary__nickname"] or row["beneficiary__username"]),
            amount_fen=int(row["total"] or 0),
            orders=row["orders"],
        )
        for index, row in enumerate(rows)
    ]


# ---- group buys ----------------------------------------------------------------------------------------


def offers_listed(now: datetime | None = None) -> QuerySet[GroupBuyOffer]:
    now = now or timezone.now()
    return (
        GroupBuyOffer.objects.filter(is_active=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-created_at")
    )


def offer_get(offer_id: int) -> GroupBuyOffer:
    offer = offers_listed().filter(pk=offer_id).first()
    if offer is None:
        raise Http404
    return offer


def group_get(group_id: int) -> GroupBuy:
    """Any opened group is visible by link (friends join by link); drafts only to their initiator."""
    group = (
        GroupBuy.objects.select_related("offer", "initiator")
        .exclude(status__in=[GroupBuy.Status.AWAITING_INITIATOR, GroupBuy.Status.CANCELLED])
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise Http404
    return group


def group_paid_members(group: GroupBuy) -> list[GroupBuyMember]:
    return list(
        group.members.select_related("user")
        .filter(
            status__in=[
                GroupBuyMember.Status.PAID,
                GroupBuyMember.Status.REFUNDING,
                GroupBuyMember.Status.REFUNDED,
            ]
        )
        .exclude(paid_at__isnull=True)
        .order_by("paid_at", "id")
    )


def open_groups_of_offer(offer: GroupBuyOffer, *, limit: int = 10) -> list[GroupBuy]:
    """Forming groups a visitor can join right now, closest to success first."""
    now = timezone.now()
    return list(
        GroupBuy.objects.select_related("initiator")
        .filter(offer=offer, status=GroupBuy.Status.FORMING, expires_at__gt=now)
        .order_by(F("size") - F("paid_count"), "expires_at")[:limit]
    )


def seats_of(user) -> QuerySet[GroupBuyMember]:
    return (
        GroupBuyMember.objects.filter(user_id=user.pk)
        .exclude(status=GroupBuyMember.Status.CANCELLED)
        .select_related("group__offer", "order")
        .order_by("-joined_at", "-id")
    )


def seat_get_for_user(*, user, seat_id: int) -> GroupBuyMember:
    seat = GroupBuyMember.objects.select_related("group__offer").filter(pk=seat_id, user_id=user.pk).first()
    if seat is None:
        raise Http404
    return seat
