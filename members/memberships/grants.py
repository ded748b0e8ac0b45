"""Membership grants: starting, renewing, upgrading and converting a membership (from a paid order, the
points mall, a gift or an operator), and taking back exactly what one grant gave (a refund, an
operator's revocation). Each grant is a MembershipGrant row; each change tells the member and moves the
member's entitlement cache version (`members.cache_versions.member_bump`)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from members.cache_versions import member_bump
from members.memberships.member_numbers import member_no_assign
from members.memberships.selectors import parse_days_item
from members.models import Membership, MembershipGrant, MembershipTier, Onboarding, User
from members.notifications.services import notification_send
from members.onboarding.services import onboarding_start


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
            # The grants whose value the credit was priced on
            # (members.memberships.upgrades.membership_window_value).
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
    member_bump(user.pk)
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
    titles: dict[str, str] = {
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
    member_bump(membership.user_id)
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
    # A group-buy gift is worth what its seat paid (payments.orders.checkout.order_create_free `funded_by`).
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


def membership_days_fulfil(*, order) -> MembershipGrant:
    """Fulfil a `membership_days` order (points mall, gifts): the days, no cash value."""
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
