"""A member's own circle membership: fulfilling a paid join or renewal, taking the days back on a
refund, the free trial, leaving. Each change is a `CircleMembershipEvent` (the churn record).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleGrant, CircleMembership, CircleMembershipEvent
from circles.services.notifications import notify_member
from circles.services.pricing import has_paid_before
from core.errors import ApplicationError

Role = CircleMembership.Role
MStatus = CircleMembership.Status
Event = CircleMembershipEvent.Kind


def membership_event_record(
    membership: CircleMembership, kind: str, *, actor=None, order_no: str = "", **details
) -> None:
    CircleMembershipEvent.objects.create(
        membership=membership,
        circle_id=membership.circle_id,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        order_no=order_no,
        details={k: str(v) if isinstance(v, datetime) else v for k, v in details.items()},
    )


def membership_lock(*, circle: Circle, user) -> CircleMembership | None:
    return (
        CircleMembership.objects.select_for_update(of=("self",))
        .filter(circle_id=circle.pk, user_id=user.pk)
        .first()
    )


def circle_membership_fulfil(*, circle: Circle, user, order_no: str, amount_fen: int) -> CircleMembership:
    """Inside the paid transaction: extend (or start) the membership by the circle's term. Once per order."""
    if CircleGrant.objects.filter(order_no=order_no).exists():
        return CircleMembership.objects.get(circle=circle, user=user)
    now = timezone.now()
    CircleMembership.objects.get_or_create(
        circle=circle, user=user, defaults={"role": Role.MEMBER, "joined_at": now}
    )
    membership = membership_lock(circle=circle, user=user)
    assert membership is not None  # get_or_create above made sure the row exists
    paid_before = has_paid_before(membership)
    previous = membership.expires_at
    current_end = (
        previous
        if membership.status == MStatus.ACTIVE
        and previous
        and previous > now
        and membership.role != Role.TRIAL
        else None
    )
    if circle.pricing_mode == Circle.PricingMode.WINDOW:
        # The circle_window_complete check constraint: a window circle has its end date.
        assert circle.window_ends_at is not None
        new_end = max(circle.window_ends_at, current_end or now)
    else:
        new_end = (current_end or now) + timedelta(days=circle.duration_days)
    if membership.status != MStatus.ACTIVE or membership.role in (Role.TRIAL, Role.EXPIRED):
        if membership.status != MStatus.ACTIVE or membership.role == Role.EXPIRED:
            membership.joined_at = now if not paid_before else membership.joined_at
        membership.role = (
            Role.MEMBER if membership.role not in CircleMembership.STAFF_ROLES else membership.role
        )
    membership.status = MStatus.ACTIVE
    membership.left_at = None
    membership.via_tier = False
    membership.expires_at = new_end
    membership.save()
    kind = Event.RENEWED if paid_before else Event.JOINED
    CircleGrant.objects.create(
        order_no=order_no,
        membership=membership,
        previous_expires_at=previous,
        expires_at=new_end,
        kind=kind,
        amount_fen=amount_fen,
    )
    membership_event_record(membership, kind, order_no=order_no, expires_at=new_end)
    notify_member(
        user=user,
        kind="circle_joined",
        title=_("已加入圈子「%(name)s」") % {"name": circle.name},
        body=_("有效期至 %(date)s") % {"date": timezone.localtime(new_end).strftime("%Y-%m-%d")},
        url=f"/circles/{circle.pk}/",
    )
    return membership


def circle_membership_revoke(*, order_no: str, fully_refunded: bool) -> None:
    """A refunded circle order takes back exactly the days it granted (full refunds only)."""
    grant = (
        CircleGrant.objects.select_related("membership").filter(order_no=order_no, revoked_at=None).first()
    )
    if grant is None or not fully_refunded:
        return
    membership = CircleMembership.objects.select_for_update(of=("self",)).get(pk=grant.membership_id)
    now = timezone.now()
    added = grant.expires_at - max(grant.previous_expires_at or grant.created_at, grant.created_at)
    if membership.expires_at:
        membership.expires_at = max(min(membership.expires_at - added, membership.expires_at), now)
    fields = ["expires_at", "updated_at"]
    if membership.role in (Role.MEMBER, Role.TRIAL):
        assert membership.expires_at is not None  # set by circle_membership_fulfil; nothing clears it
        if membership.expires_at <= now:
            membership.role = Role.EXPIRED
            fields.append("role")
    membership.save(update_fields=fields)
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    membership_event_record(membership, Event.REFUNDED, order_no=order_no)


def circle_trial_start(*, circle: Circle, user) -> CircleMembership:
    """Free trial once per person (not for anyone who has been a member or was removed)."""
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    if circle.trial_days <= 0:
        raise ApplicationError("trial_unavailable", _("该圈子没有免费试用"))
    now = timezone.now()
    with transaction.atomic():
        CircleMembership.objects.get_or_create(
            circle=circle,
            user=user,
            defaults={"role": Role.EXPIRED, "joined_at": now, "status": MStatus.LEFT},
        )
        membership = membership_lock(circle=circle, user=user)
        assert membership is not None  # get_or_create above made sure the row exists
        if membership.trial_used or has_paid_before(membership) or membership.status == MStatus.REMOVED:
            raise ApplicationError("trial_used", _("你已试用过或加入过该圈子"))
        if membership.status == MStatus.ACTIVE and membership.role in CircleMembership.STAFF_ROLES:
            raise ApplicationError("already_member", _("你已在圈子中"))
        membership.role, membership.status = Role.TRIAL, MStatus.ACTIVE
        membership.trial_used = True
        membership.joined_at = now
        membership.expires_at = now + timedelta(days=circle.trial_days)
        membership.save()
        membership_event_record(membership, Event.TRIAL, expires_at=membership.expires_at)
    return membership


def circle_leave(*, circle: Circle, user) -> CircleMembership:
    with transaction.atomic():
        membership = membership_lock(circle=circle, user=user)
        if membership is None or membership.status != MStatus.ACTIVE:
            raise ApplicationError("not_member", _("你不在该圈子中"))
        if circle.owner_id == user.pk:
            raise ApplicationError("owner_cannot_leave", _("圈主不能退出自己的圈子"))
        membership.status, membership.left_at = MStatus.LEFT, timezone.now()
        membership.save(update_fields=["status", "left_at", "updated_at"])
        membership_event_record(membership, Event.LEFT, actor=user)
    return membership
