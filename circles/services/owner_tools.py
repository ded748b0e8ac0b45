"""What a circle's owner and admins do to members: remove (with or without a refund), allow a removed
member to rejoin, set a member's role (guest/KOL, admin, member). Each is audited.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleMembership, CircleMembershipEvent
from circles.selectors.access import circle_access
from circles.services.memberships import membership_event_record
from circles.services.notifications import notify_member
from circles.services.permissions import require_manager
from circles.text import plain_text
from core.audit import audit_record
from core.errors import ApplicationError
from core.roles import is_money_operator
from payments.models import Order
from payments.orders.refunds import refund_request

Role = CircleMembership.Role
MStatus = CircleMembership.Status
Event = CircleMembershipEvent.Kind


def _latest_refundable_order(membership: CircleMembership):

    order_nos = list(
        membership.grants.filter(revoked_at__isnull=True)
        .order_by("-created_at")
        .values_list("order_no", flat=True)
    )
    for order_no in order_nos:
        order = Order.objects.filter(
            order_no=order_no, status__in=(Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
        ).first()
        if order is not None:
            return order
    return None


def circle_member_remove(
    *, circle: Circle, membership: CircleMembership, actor, refund: bool, reason: str = ""
) -> CircleMembership:
    """Remove a member (owner/admin). With a refund, the latest paid order is refunded and the person
    cannot rejoin until the owner allows it. Refunding moves money: only a manager who is also a
    money operator may do it (docs/architecture.md §4); others remove and ask finance to refund."""
    access = require_manager(actor, circle)
    if refund and not is_money_operator(actor):
        raise ApplicationError(
            "refund_needs_finance",
            _("退款须由财务办理：可先移出该成员，再联系财务退款"),
            status_code=403,
        )
    reason = plain_text(reason)
    if membership.circle_id != circle.pk:
        raise ApplicationError("not_found", _("成员不存在"), status_code=404)
    if membership.role == Role.OWNER or membership.user_id == circle.owner_id:
        raise ApplicationError("cannot_remove_owner", _("不能移出圈主"))
    if membership.role == Role.ADMIN and not access.is_owner:
        raise ApplicationError("permission_denied", _("只有圈主可以移出管理员"), status_code=403)

    with transaction.atomic():
        locked = CircleMembership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
        if locked.status == MStatus.REMOVED:
            raise ApplicationError("already_removed", _("该成员已被移出"), status_code=409)
        order = _latest_refundable_order(locked) if refund else None
        if refund and order is None:
            raise ApplicationError("nothing_to_refund", _("该成员没有可退款的订单"))
        locked.status = MStatus.REMOVED
        locked.removed_at = timezone.now()
        locked.removed_with_refund = bool(refund)
        locked.rejoin_allowed = not refund
        if locked.role in (Role.ADMIN, Role.GUEST):
            locked.role = Role.MEMBER
        locked.save()
        membership_event_record(locked, Event.REMOVED, actor=actor, refund=bool(refund), reason=reason[:200])
        if order is not None:
            refund_request(
                order=order,
                amount_fen=None,
                reason=(reason or _("圈主移出成员并退款"))[:200],
                requested_by=actor,
                self_service=False,
            )
        audit_record(
            actor=actor,
            action="circle_member_remove",
            target=locked,
            summary=f"{circle.name}: removed user {locked.user_id}" + (" with refund" if refund else ""),
            refund=bool(refund),
            order_no=order.order_no if order else "",
            reason=reason,
        )
    notify_member(
        user=locked.user,
        kind="circle_removed",
        title=_("你已被移出圈子「%(name)s」") % {"name": circle.name},
        body=_("已为你办理退款") if refund else (reason or ""),
    )
    return locked


def circle_member_allow_rejoin(*, circle: Circle, membership: CircleMembership, actor) -> CircleMembership:
    """The owner lets a member who was removed with a refund pay to join again."""
    access = circle_access(actor, circle)
    if not access.is_owner:
        raise ApplicationError("permission_denied", _("只有圈主可以允许重新加入"), status_code=403)
    if membership.circle_id != circle.pk:
        raise ApplicationError("not_found", _("成员不存在"), status_code=404)
    with transaction.atomic():
        locked = CircleMembership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
        if locked.rejoin_allowed:
            return locked
        locked.rejoin_allowed = True
        locked.save(update_fields=["rejoin_allowed", "updated_at"])
        membership_event_record(locked, Event.REJOIN_ALLOWED, actor=actor)
        audit_record(actor=actor, action="circle_member_allow_rejoin", target=locked)
        notify_member(
            user=locked.user,
            kind="circle_rejoin_allowed",
            title=_("圈主已允许你重新加入「%(name)s」") % {"name": circle.name},
            url=f"/circles/{circle.pk}/",
        )
    return locked


def circle_member_set_role(
    *, circle: Circle, membership: CircleMembership, role: str, actor
) -> CircleMembership:
    """The owner promotes a member to guest (嘉宾/KOL) or admin, or back to member."""
    if not circle_access(actor, circle).is_owner:
        raise ApplicationError("permission_denied", _("只有圈主可以设置角色"), status_code=403)
    if role not in (Role.ADMIN, Role.GUEST, Role.MEMBER):
        raise ApplicationError("invalid", _("无效的角色"), fields={"role": [_("无效的角色")]})
    if membership.circle_id != circle.pk or membership.status != MStatus.ACTIVE:
        raise ApplicationError("not_member", _("该用户不在圈子中"))
    if membership.user_id == circle.owner_id:
        raise ApplicationError("cannot_change_owner", _("不能修改圈主的角色"))
    old = membership.role
    membership.role = role
    if role == Role.MEMBER and (membership.expires_at is None or membership.expires_at <= timezone.now()):
        membership.role = Role.EXPIRED if not membership.via_tier else Role.MEMBER
    membership.save(update_fields=["role", "updated_at"])
    membership_event_record(membership, Event.ROLE, actor=actor, old=old, new=membership.role)
    audit_record(actor=actor, action="circle_member_role", target=membership, old=old, new=membership.role)
    if role == Role.GUEST:
        notify_member(
            user=membership.user,
            kind="circle_guest",
            title=_("你已成为「%(name)s」的嘉宾") % {"name": circle.name},
            body=_("成员可以向你付费提问"),
            url=f"/circles/{circle.pk}/",
        )
    return membership
