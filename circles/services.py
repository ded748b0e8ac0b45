"""Writes of the circles app: circles and rules, memberships (join/renew/trial/leave/remove/roles),
posts, comments, likes, moderation, tips, paid questions and the periodic sweep.

Permission checks go through `circles.selectors.circle_access` only. Counters change with F()
expressions so concurrent likes, comments and tips keep them exact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import (
    Circle,
    CircleGrant,
    CircleMembership,
    CircleMembershipEvent,
    CircleRules,
    CircleSettings,
    Comment,
    PaidQuestion,
    Post,
    PostLike,
    RulesAcceptance,
    TipIntent,
)
from circles.selectors import circle_access, plain_text
from core import content_check
from core.audit import audit_record
from core.errors import ApplicationError, NotEntitled
from core.images import store_images, validate_images
from core.money import apply_bp, fen_to_yuan_text, prorate
from members.services import miniprogram_openid, notification_send

logger = logging.getLogger(__name__)

Role = CircleMembership.Role
MStatus = CircleMembership.Status
Event = CircleMembershipEvent.Kind

MAX_IMAGES = 9
MAX_BODY_CHARS = 10_000
MAX_TAGS = 5


# ---- helpers -------------------------------------------------------------------------------------------


def _notify(*, user, kind: str, title: str, body: str = "", url: str = "", subscribe: bool = False) -> None:
    """In-site notification through members; `subscribe` also sends the WeChat subscribe message of
    the same key (`circle_tip`, `circle_question`, …) when the member has an opt-in left for it."""
    notification_send(
        user=user,
        kind=kind,
        title=title,
        body=body,
        url=url,
        subscribe_template=kind if subscribe else "",
    )


_VERDICT_ORDER = {content_check.PASS: 0, content_check.REVIEW: 1, content_check.RISKY: 2}


def _text_verdict(*, user, text: str, scene: int = 3) -> str:
    """The content check's verdict on ALL of `text`: long posts are checked in pieces the size WeChat
    accepts, and the worst piece decides (pass < review < risky)."""
    text = text or ""
    size = content_check.MAX_CHARS
    openid = miniprogram_openid(user)
    worst = content_check.PASS
    for start in range(0, max(len(text), 1), size):
        verdict = content_check.check_text(text[start : start + size], openid=openid, scene=scene)
        if _VERDICT_ORDER.get(verdict.suggest, 1) > _VERDICT_ORDER[worst]:
            worst = verdict.suggest if verdict.suggest in _VERDICT_ORDER else content_check.REVIEW
        if worst == content_check.RISKY:
            break
    return worst


def _check_text(*, user, text: str, scene: int = 3, field: str = "body") -> str:
    """Return the status the content gets ('visible' or 'review'); raise content_rejected when risky."""
    verdict = _text_verdict(user=user, text=text, scene=scene)
    if verdict == content_check.RISKY:
        raise ApplicationError(
            "content_rejected", _("内容包含违规信息，未能发布"), fields={field: [_("内容未通过安全检查")]}
        )
    return Post.Status.VISIBLE if verdict == content_check.PASS else Post.Status.REVIEW


def _require_read(user, circle: Circle):
    access = circle_access(user, circle)
    if not access.can_read:
        raise NotEntitled(access.reason_text or None)
    return access


def _require_post(user, circle: Circle):
    access = _require_read(user, circle)
    if access.rules_pending:
        raise ApplicationError(
            "rules_not_accepted",
            _("请先阅读并同意最新的社群公约"),
            status_code=403,
            extra={"rules_version": circle.rules_version},
        )
    return access


def _require_manager(user, circle: Circle):
    access = circle_access(user, circle)
    if not access.can_manage:
        raise ApplicationError("permission_denied", _("只有圈主或管理员可以操作"), status_code=403)
    return access


def _event(membership: CircleMembership, kind: str, *, actor=None, order_no: str = "", **details) -> None:
    CircleMembershipEvent.objects.create(
        membership=membership,
        circle_id=membership.circle_id,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        order_no=order_no,
        details={k: str(v) if isinstance(v, datetime) else v for k, v in details.items()},
    )


def _lock_membership(*, circle: Circle, user) -> CircleMembership | None:
    return (
        CircleMembership.objects.select_for_update(of=("self",))
        .filter(circle_id=circle.pk, user_id=user.pk)
        .first()
    )


# ---- circles and rules ---------------------------------------------------------------------------------


def circle_owner_ensure(*, circle: Circle) -> CircleMembership:
    """The owner always has an owner-role membership row (created with the circle or on owner change)."""
    now = timezone.now()
    membership, created = CircleMembership.objects.get_or_create(
        circle=circle,
        user_id=circle.owner_id,
        defaults={"role": Role.OWNER, "joined_at": now, "accepted_rules_version": circle.rules_version},
    )
    if not created and (membership.role != Role.OWNER or membership.status != MStatus.ACTIVE):
        membership.role, membership.status = Role.OWNER, MStatus.ACTIVE
        membership.save(update_fields=["role", "status", "updated_at"])
    CircleMembership.objects.filter(circle=circle, role=Role.OWNER).exclude(user_id=circle.owner_id).update(
        role=Role.ADMIN
    )
    return membership


@transaction.atomic
def circle_create(
    *,
    owner,
    name: str,
    intro: str = "",
    price_fen: int = 0,
    pricing_mode: str = Circle.PricingMode.DURATION,
    duration_days: int = 365,
    window_starts_at: datetime | None = None,
    window_ends_at: datetime | None = None,
    late_join: str = Circle.LateJoin.FULL,
    trial_days: int = 0,
    rules_body: str = "",
    tiers=(),
    **options,
) -> Circle:
    circle = Circle(
        owner=owner,
        name=name,
        intro=intro,
        price_fen=price_fen,
        pricing_mode=pricing_mode,
        duration_days=duration_days,
        window_starts_at=window_starts_at,
        window_ends_at=window_ends_at,
        late_join=late_join,
        trial_days=trial_days,
        **options,
    )
    circle.full_clean()
    circle.save()
    if tiers:
        circle.included_in_tiers.set(tiers)
    circle_owner_ensure(circle=circle)
    if rules_body:
        circle_rules_publish(circle=circle, body=rules_body, actor=owner)
    return circle


def circle_rules_publish(*, circle: Circle, body: str, actor) -> CircleRules:
    """A new rules version; every member (the owner excepted) must accept it before posting again."""
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("公约内容不能为空"), fields={"body": [_("必填")]})
    with transaction.atomic():
        locked = Circle.objects.select_for_update(of=("self",)).get(pk=circle.pk)
        version = locked.rules_version + 1
        rules = CircleRules.objects.create(circle=locked, version=version, body=body, created_by=actor)
        Circle.objects.filter(pk=locked.pk).update(rules_version=version)
        CircleMembership.objects.filter(circle=locked, user_id=locked.owner_id).update(
            accepted_rules_version=version
        )
    circle.rules_version = version
    return rules


def circle_rules_accept(*, circle: Circle, user) -> RulesAcceptance | None:
    """Accept the current rules version (needs read access). Tier members get a membership row here."""
    circle.refresh_from_db(fields=["rules_version"])
    access = _require_read(user, circle)
    version = circle.rules_version
    if version == 0:
        return None
    with transaction.atomic():
        acceptance, _created = RulesAcceptance.objects.get_or_create(
            circle=circle, user=user, version=version
        )
        membership = _lock_membership(circle=circle, user=user)
        if membership is None:
            membership = CircleMembership.objects.create(
                circle=circle,
                user=user,
                role=Role.MEMBER,
                joined_at=timezone.now(),
                via_tier=access.via_tier,
                accepted_rules_version=version,
            )
        elif membership.accepted_rules_version < version:
            membership.accepted_rules_version = version
            fields = ["accepted_rules_version", "updated_at"]
            if access.via_tier and membership.status != MStatus.ACTIVE:
                membership.status, membership.via_tier = MStatus.ACTIVE, True
                fields += ["status", "via_tier"]
            membership.save(update_fields=fields)
    return acceptance


# ---- joining, renewing and pricing ---------------------------------------------------------------------


@dataclass(frozen=True)
class CirclePrice:
    """What joining or renewing costs this user now, and until when it runs."""

    kind: str  # "join" | "renew"
    band: str  # "" | "early" | "window" | "late" | "prorated"
    list_price_fen: int
    amount_fen: int
    expires_at: datetime
    lines: list[tuple[str, int]] = field(default_factory=list)

    @property
    def band_label(self) -> str:
        return {
            "early": _("提前续费"),
            "window": _("到期前续费"),
            "late": _("过期后续费"),
            "prorated": _("按剩余天数折算"),
        }.get(self.band, "")


def _has_paid_before(membership: CircleMembership | None) -> bool:
    return membership is not None and membership.grants.filter(revoked_at__isnull=True).exists()


_UNSET = object()


def circle_price(*, circle: Circle, user, now: datetime | None = None, membership=_UNSET) -> CirclePrice:
    """Price of joining or renewing for `user`; refuses when there is nothing to buy.

    `membership` may be passed when the caller already loaded the user's row (or knows there is none).
    """
    now = now or timezone.now()
    if not circle.is_published:
        raise ApplicationError("item_unavailable", _("该圈子暂不可加入"))
    if circle.price_fen <= 0:
        raise ApplicationError("item_unavailable", _("该圈子暂未开放付费加入"))
    if not getattr(user, "is_authenticated", False):
        membership = None
    elif membership is _UNSET:
        membership = CircleMembership.objects.filter(circle_id=circle.pk, user_id=user.pk).first()
    if circle.owner_id == getattr(user, "pk", None) or (
        membership
        and membership.status == MStatus.ACTIVE
        and membership.role in (Role.OWNER, Role.ADMIN, Role.GUEST)
    ):
        raise ApplicationError("already_member", _("你已是该圈子的圈主、管理员或嘉宾，无需购买"))
    if membership and membership.status == MStatus.REMOVED and not membership.rejoin_allowed:
        raise ApplicationError(
            "circle_rejoin_blocked", _("你已被移出该圈子并已退款，需圈主同意后才能重新加入"), status_code=403
        )
    base = circle.price_fen
    lines: list[tuple[str, int]] = []
    paid_before = _has_paid_before(membership)
    current_end = (
        membership.expires_at
        if membership
        and membership.status == MStatus.ACTIVE
        and membership.expires_at
        and membership.role != Role.TRIAL
        else None
    )
    if circle.pricing_mode == Circle.PricingMode.WINDOW:
        start, end = circle.window_starts_at, circle.window_ends_at
        if end <= now:
            raise ApplicationError("circle_window_closed", _("本期已结束，请等待圈主开放下一期"))
        if current_end and current_end >= end:
            raise ApplicationError("already_member", _("你已加入本期，无需重复购买"))
        expires_at = end
        amount = base
        band = ""
        if circle.late_join == Circle.LateJoin.PRORATED and now > start:
            total = (end - start).total_seconds()
            left = (end - now).total_seconds()
            amount = prorate(base, int(left // 86400) + 1, max(1, int(total // 86400)))
            band = "prorated"
            lines.append((_("晚加入按剩余天数折算"), amount - base))
    else:
        start_from = max(current_end, now) if current_end else now
        expires_at = start_from + timedelta(days=circle.duration_days)
        amount, band = base, ""
    kind = "join"
    if paid_before and membership is not None and membership.expires_at is not None:
        kind = "renew"
        if membership.status == MStatus.ACTIVE and membership.expires_at > now + timedelta(
            days=circle.renew_window_days
        ):
            band, rate = "early", circle.renew_early_bp
        elif membership.status == MStatus.ACTIVE and membership.expires_at > now:
            band, rate = "window", circle.renew_window_bp
        else:
            band, rate = "late", circle.renew_late_bp
        banded = apply_bp(amount, rate)
        if banded != amount:
            label = {
                "early": _("提前续费优惠"),
                "window": _("到期前续费优惠"),
                "late": _("过期后续费优惠"),
            }[band]
            lines.append((label, banded - amount))
        amount = banded
    return CirclePrice(kind, band, base, amount, expires_at, lines)


def circle_membership_fulfil(*, circle: Circle, user, order_no: str, amount_fen: int) -> CircleMembership:
    """Inside the paid transaction: extend (or start) the membership by the circle's term. Once per order."""
    if CircleGrant.objects.filter(order_no=order_no).exists():
        return CircleMembership.objects.get(circle=circle, user=user)
    now = timezone.now()
    CircleMembership.objects.get_or_create(
        circle=circle, user=user, defaults={"role": Role.MEMBER, "joined_at": now}
    )
    membership = _lock_membership(circle=circle, user=user)
    paid_before = _has_paid_before(membership)
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
    _event(membership, kind, order_no=order_no, expires_at=new_end)
    _notify(
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
    if membership.role in (Role.MEMBER, Role.TRIAL) and membership.expires_at <= now:
        membership.role = Role.EXPIRED
        fields.append("role")
    membership.save(update_fields=fields)
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    _event(membership, Event.REFUNDED, order_no=order_no)


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
        membership = _lock_membership(circle=circle, user=user)
        if membership.trial_used or _has_paid_before(membership) or membership.status == MStatus.REMOVED:
            raise ApplicationError("trial_used", _("你已试用过或加入过该圈子"))
        if membership.status == MStatus.ACTIVE and membership.role in CircleMembership.STAFF_ROLES:
            raise ApplicationError("already_member", _("你已在圈子中"))
        membership.role, membership.status = Role.TRIAL, MStatus.ACTIVE
        membership.trial_used = True
        membership.joined_at = now
        membership.expires_at = now + timedelta(days=circle.trial_days)
        membership.save()
        _event(membership, Event.TRIAL, expires_at=membership.expires_at)
    return membership


def circle_leave(*, circle: Circle, user) -> CircleMembership:
    with transaction.atomic():
        membership = _lock_membership(circle=circle, user=user)
        if membership is None or membership.status != MStatus.ACTIVE:
            raise ApplicationError("not_member", _("你不在该圈子中"))
        if circle.owner_id == user.pk:
            raise ApplicationError("owner_cannot_leave", _("圈主不能退出自己的圈子"))
        membership.status, membership.left_at = MStatus.LEFT, timezone.now()
        membership.save(update_fields=["status", "left_at", "updated_at"])
        _event(membership, Event.LEFT, actor=user)
    return membership


def _latest_refundable_order(membership: CircleMembership):
    from payments.models import Order

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
    from core.roles import is_money_operator

    access = _require_manager(actor, circle)
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
    from payments.orders.refunds import refund_request

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
        _event(locked, Event.REMOVED, actor=actor, refund=bool(refund), reason=reason[:200])
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
    _notify(
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
        _event(locked, Event.REJOIN_ALLOWED, actor=actor)
        audit_record(actor=actor, action="circle_member_allow_rejoin", target=locked)
        _notify(
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
    _event(membership, Event.ROLE, actor=actor, old=old, new=membership.role)
    audit_record(actor=actor, action="circle_member_role", target=membership, old=old, new=membership.role)
    if role == Role.GUEST:
        _notify(
            user=membership.user,
            kind="circle_guest",
            title=_("你已成为「%(name)s」的嘉宾") % {"name": circle.name},
            body=_("成员可以向你付费提问"),
            url=f"/circles/{circle.pk}/",
        )
    return membership


# ---- posts, comments, likes ----------------------------------------------------------------------------


def _clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.replace("，", ",").replace("#", ",").split(",")
    cleaned = []
    for tag in tags or []:
        tag = plain_text(tag)[:20]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError(
            "too_many_tags", _("最多 %(n)s 个标签") % {"n": MAX_TAGS}, fields={"tags": [_("标签过多")]}
        )
    return cleaned


def _post_became_visible(post: Post) -> None:
    Circle.objects.filter(pk=post.circle_id).update(visible_post_count=F("visible_post_count") + 1)
    if post.is_featured:
        Circle.objects.filter(pk=post.circle_id).update(featured_post_count=F("featured_post_count") + 1)
    if post.kind == Post.Kind.ANSWER and post.question_id:
        Post.objects.filter(pk=post.question_id, is_answered=False).update(is_answered=True)


def _post_left_visible(post: Post) -> None:
    Circle.objects.filter(pk=post.circle_id).update(visible_post_count=F("visible_post_count") - 1)
    if post.is_featured:
        Circle.objects.filter(pk=post.circle_id).update(featured_post_count=F("featured_post_count") - 1)


def post_create(
    *,
    circle: Circle,
    author,
    body: str,
    kind: str = Post.Kind.TALK,
    title: str = "",
    tags=(),
    images=(),
    question: Post | None = None,
) -> Post:
    """Publish a post (rules accepted first). Text passes the content check: review → moderation queue."""
    _require_post(author, circle)
    body = plain_text(body)
    title = plain_text(title)
    if kind not in Post.Kind.values:
        raise ApplicationError("invalid", _("无效的帖子类型"), fields={"kind": [_("无效的帖子类型")]})
    if not body:
        raise ApplicationError("invalid", _("内容不能为空"), fields={"body": [_("必填")]})
    if len(body) > MAX_BODY_CHARS or len(title) > 120:
        raise ApplicationError("invalid", _("内容过长"), fields={"body": [_("内容过长")]})
    if kind == Post.Kind.ANSWER:
        if question is None or question.circle_id != circle.pk or question.kind != Post.Kind.QUESTION:
            raise ApplicationError("invalid", _("请选择要回答的问题"), fields={"question": [_("问题不存在")]})
        if question.status != Post.Status.VISIBLE:
            raise ApplicationError("invalid", _("问题不存在"), fields={"question": [_("问题不存在")]})
        if PaidQuestion.objects.filter(post_id=question.pk).exists():
            # the asked guest answers through paid_question_answer, which releases the fee
            raise ApplicationError(
                "paid_question",
                _("付费提问只能由被提问的嘉宾在问题页回答"),
                fields={"question": [_("付费提问")]},
            )
    elif question is not None:
        question = None
    tags = _clean_tags(tags)
    checked = validate_images(images, max_count=MAX_IMAGES)
    status = _check_text(user=author, text=f"{title}\n{body}\n{' '.join(tags)}")
    names = store_images(checked, folder="circles/posts")
    with transaction.atomic():
        post = Post.objects.create(
            circle=circle,
            author=author,
            kind=kind,
            title=title,
            body=body,
            tags=tags,
            images=names,
            status=status,
            question=question,
        )
        if status == Post.Status.VISIBLE:
            _post_became_visible(post)
    return post


def _require_moderator(actor, circle: Circle) -> None:
    """Circle owners and admins moderate their circle; platform operators moderate every circle."""
    from core.roles import OPERATOR, has_role

    if has_role(actor, OPERATOR):
        return
    _require_manager(actor, circle)


def post_moderate(*, post: Post, actor, approve: bool, note: str = "") -> Post:
    """Approve or reject a post held for review. Approving a paid answer releases the guest's fee;
    rejecting it reopens the question."""
    _require_moderator(actor, post.circle)
    note = plain_text(note)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status != Post.Status.REVIEW:
            return locked
        locked.status = Post.Status.VISIBLE if approve else Post.Status.REJECTED
        locked.moderation_note = note[:200]
        locked.save(update_fields=["status", "moderation_note", "updated_at"])
        if approve:
            _post_became_visible(locked)
        if locked.kind == Post.Kind.ANSWER:
            _paid_answer_moderated(post=locked, approved=approve)
        audit_record(actor=actor, action="circle_post_moderate", target=locked, approve=approve, note=note)
    if not approve:
        _notify(
            user=locked.author,
            kind="circle_post_rejected",
            title=_("你的帖子未通过审核"),
            body=note[:60] or (locked.title or locked.body[:40]),
            url=f"/circles/{locked.circle_id}/",
        )
    return locked


def comment_moderate(*, comment: Comment, actor, approve: bool, note: str = "") -> Comment:
    _require_moderator(actor, comment.post.circle)
    note = plain_text(note)
    with transaction.atomic():
        locked = Comment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
        if locked.status != Comment.Status.REVIEW:
            return locked
        locked.status = Comment.Status.VISIBLE if approve else Comment.Status.REJECTED
        locked.moderation_note = note[:200]
        locked.save(update_fields=["status", "moderation_note", "updated_at"])
        if approve:
            Post.objects.filter(pk=locked.post_id).update(comment_count=F("comment_count") + 1)
            _comment_notify(comment=locked, post=comment.post)
        audit_record(actor=actor, action="circle_comment_moderate", target=locked, approve=approve, note=note)
    return locked


def post_delete(*, post: Post, actor) -> Post:
    """The author or a circle manager deletes a post."""
    if post.author_id != actor.pk:
        _require_manager(actor, post.circle)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status == Post.Status.DELETED:
            return locked
        was_visible = locked.status == Post.Status.VISIBLE
        locked.status = Post.Status.DELETED
        locked.save(update_fields=["status", "updated_at"])
        if was_visible:
            _post_left_visible(locked)
    return locked


def post_set_flags(*, post: Post, actor, pinned: bool | None = None, featured: bool | None = None) -> Post:
    """Pin or feature (精华) a post: circle owners and admins, and platform operators (from admin).
    Each change is in the audit log."""
    _require_moderator(actor, post.circle)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        fields = ["updated_at"]
        if pinned is not None and locked.is_pinned != pinned:
            locked.is_pinned = pinned
            fields.append("is_pinned")
        if featured is not None and locked.is_featured != featured:
            locked.is_featured = featured
            locked.featured_at = timezone.now() if featured else None
            fields += ["is_featured", "featured_at"]
            if locked.status == Post.Status.VISIBLE:
                delta = 1 if featured else -1
                Circle.objects.filter(pk=locked.circle_id).update(
                    featured_post_count=F("featured_post_count") + delta
                )
            if featured:
                _notify(
                    user=locked.author,
                    kind="circle_featured",
                    title=_("你的帖子被设为精华"),
                    body=locked.title or locked.body[:40],
                    url=f"/circles/posts/{locked.pk}/",
                )
        locked.save(update_fields=fields)
        if len(fields) > 1:
            audit_record(
                actor=actor,
                action="circle_post_flags",
                target=locked,
                summary=f"{post.circle.name}: pinned={locked.is_pinned} featured={locked.is_featured}",
                pinned=locked.is_pinned,
                featured=locked.is_featured,
            )
    return locked


def comment_create(*, post: Post, author, body: str, parent: Comment | None = None) -> Comment:
    _require_post(author, post.circle)
    if post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("帖子不存在"), status_code=404)
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("评论不能为空"), fields={"body": [_("必填")]})
    if len(body) > 2000:
        raise ApplicationError("invalid", _("评论过长"), fields={"body": [_("评论过长")]})
    if parent is not None and (parent.post_id != post.pk or parent.status != Comment.Status.VISIBLE):
        raise ApplicationError("invalid", _("回复的评论不存在"), fields={"parent": [_("评论不存在")]})
    if parent is not None and parent.parent_id:
        parent = parent.parent  # one level of nesting: replies to replies join the same thread
    status = _check_text(user=author, text=body, scene=2)
    with transaction.atomic():
        comment = Comment.objects.create(post=post, author=author, parent=parent, body=body, status=status)
        if status == Comment.Status.VISIBLE:
            Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
    if status == Comment.Status.VISIBLE:
        _comment_notify(comment=comment, post=post)
    return comment


def _comment_notify(*, comment: Comment, post: Post) -> None:
    """Tell the post's author about a comment, and the parent comment's author about a reply."""
    url = f"/circles/posts/{post.pk}/#c{comment.parent_id or comment.pk}"
    who = comment.author.display_name
    if post.author_id != comment.author_id:
        _notify(
            user=post.author,
            kind="circle_comment",
            title=_("%(who)s 评论了你的帖子") % {"who": who},
            body=comment.body[:60],
            url=url,
        )
    parent = comment.parent
    if parent is not None and parent.author_id not in (comment.author_id, post.author_id):
        _notify(
            user=parent.author,
            kind="circle_reply",
            title=_("%(who)s 回复了你的评论") % {"who": who},
            body=comment.body[:60],
            url=url,
        )


def comment_delete(*, comment: Comment, actor) -> Comment:
    """The comment's author or a circle manager deletes a comment (its replies go with it)."""
    post = comment.post
    if comment.author_id != actor.pk:
        _require_manager(actor, post.circle)
    with transaction.atomic():
        locked = Comment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
        if locked.status == Comment.Status.DELETED:
            return locked
        # the comment and its visible replies leave the count together
        hidden = [locked] if locked.status == Comment.Status.VISIBLE else []
        if locked.parent_id is None:
            hidden += list(
                Comment.objects.select_for_update(of=("self",)).filter(
                    parent_id=locked.pk, status=Comment.Status.VISIBLE
                )
            )
        Comment.objects.filter(pk__in=[c.pk for c in hidden] + [locked.pk]).update(
            status=Comment.Status.DELETED, updated_at=timezone.now()
        )
        if hidden:
            Post.objects.filter(pk=post.pk, comment_count__gte=len(hidden)).update(
                comment_count=F("comment_count") - len(hidden)
            )
        locked.status = Comment.Status.DELETED
    return locked


def post_like(*, post: Post, user) -> bool:
    """Like once (unique per user); returns True when this call added the like. Counter via F()."""
    _require_read(user, post.circle)
    if post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("帖子不存在"), status_code=404)
    try:
        with transaction.atomic():
            PostLike.objects.create(post=post, user=user)
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    except IntegrityError:
        return False
    return True


def post_unlike(*, post: Post, user) -> bool:
    _require_read(user, post.circle)
    with transaction.atomic():
        deleted, _rows = PostLike.objects.filter(post=post, user=user).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
    return bool(deleted)


# ---- tips (打赏) ------------------------------------------------------------------------------------------


def tip_split(amount_fen: int, *, fee_bp: int | None = None) -> tuple[int, int]:
    """(author share, platform fee): the share is floored, the remainder stays with the platform."""
    fee_bp = CircleSettings.current().tip_platform_fee_bp if fee_bp is None else fee_bp
    share = apply_bp(amount_fen, 10_000 - fee_bp)
    return share, amount_fen - share


def tip_intent_create(
    *, user, amount_fen: int, post: Post | None = None, comment: Comment | None = None, message: str = ""
) -> TipIntent:
    """A tip about to be paid: checks the target and the operator's limits; its id is the order item_id."""
    if (post is None) == (comment is None):
        raise ApplicationError("invalid", _("请选择打赏的帖子或评论"))
    target_post = post if post is not None else comment.post
    target = post if post is not None else comment
    _require_read(user, target_post.circle)
    if target.status != "visible" or target_post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("内容不存在"), status_code=404)
    if target.author_id == user.pk:
        raise ApplicationError("tip_self", _("不能打赏自己"))
    conf = CircleSettings.current()
    amount_fen = int(amount_fen)
    if not conf.tip_min_fen <= amount_fen <= conf.tip_max_fen:
        raise ApplicationError(
            "tip_amount_out_of_range",
            _("打赏金额须在 %(min)s 到 %(max)s 之间")
            % {"min": fen_to_yuan_text(conf.tip_min_fen), "max": fen_to_yuan_text(conf.tip_max_fen)},
            fields={"amount_fen": [_("金额超出范围")]},
        )
    message = plain_text(message)[:100]
    # The message reaches the author: risky text is refused; doubtful text is dropped, the tip stays.
    verdict = _text_verdict(user=user, text=message, scene=2) if message else content_check.PASS
    if verdict == content_check.RISKY:
        raise ApplicationError(
            "content_rejected", _("留言包含违规信息"), fields={"message": [_("内容未通过安全检查")]}
        )
    if verdict != content_check.PASS:
        message = ""
    share, fee = tip_split(amount_fen, fee_bp=conf.tip_platform_fee_bp)
    return TipIntent.objects.create(
        circle=target_post.circle,
        tipper=user,
        recipient=target.author,
        post=post,
        comment=comment,
        amount_fen=amount_fen,
        platform_fee_fen=fee,
        author_share_fen=share,
        message=message,
    )


def tip_fulfil(*, order) -> TipIntent:
    """Inside the paid transaction: mark the tip paid, bump counters, accrue the author's held share."""
    from payments import items, ledger

    existing = TipIntent.objects.filter(order_no=order.order_no).first()
    if existing is not None:
        return existing
    intent = TipIntent.objects.select_for_update(of=("self",)).get(pk=int(order.item_id))
    if intent.status != TipIntent.Status.CREATED:
        # The same intent paid by a second order: that payment is a tip of its own.
        intent.pk = None
        intent.order_no = None
        intent.earning_id = None
    intent.status = TipIntent.Status.PAID
    intent.order_no = order.order_no
    intent.paid_at = order.paid_at or timezone.now()
    if order.amount_fen != intent.amount_fen:  # the fee split shown at intent time applies to its amount
        intent.amount_fen = order.amount_fen
        intent.author_share_fen, intent.platform_fee_fen = tip_split(order.amount_fen)
    intent.save()
    target_model = Post if intent.post_id else Comment
    target_id = intent.post_id or intent.comment_id
    target_model.objects.filter(pk=target_id).update(
        tip_count=F("tip_count") + 1, tip_total_fen=F("tip_total_fen") + intent.amount_fen
    )
    if intent.author_share_fen > 0:
        window = items.get(order.item_type).refund_window_for(order=order)
        earning = ledger.earning_accrue(
            user=intent.recipient,
            amount_fen=intent.author_share_fen,
            source="tip",
            idempotency_key=f"tip:{order.order_no}",
            hold_until=intent.paid_at + window,
            order=order,
            description=_("圈子打赏：%(circle)s") % {"circle": intent.circle.name},
        )
        intent.earning_id = earning.pk
        intent.save(update_fields=["earning_id"])
    _notify(
        user=intent.recipient,
        kind="circle_tip",
        title=_("%(who)s 打赏了你 %(amount)s")
        % {"who": intent.tipper.display_name, "amount": fen_to_yuan_text(intent.amount_fen)},
        body=_("%(message)s（%(share)s 计入你的收益，退款期过后结算）")
        % {
            "message": intent.message or _("感谢你的分享"),
            "share": fen_to_yuan_text(intent.author_share_fen),
        },
        url="/payments/wallet/",
        subscribe=True,
    )
    return intent


def tip_revoke(*, order, refund) -> None:
    """A refunded tip voids (while held) or claws back (after settlement) the author's share."""
    from payments import ledger
    from payments.models import Earning

    intent = TipIntent.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    if intent is None:
        return
    fully = order.refunded_fen >= order.amount_fen
    if intent.earning_id:
        earning = Earning.objects.get(pk=intent.earning_id)
        remaining = earning.amount_fen - earning.reversed_fen
        amount = (
            remaining
            if fully
            else min(remaining, intent.author_share_fen * refund.amount_fen // order.amount_fen)
        )
        if amount > 0:
            ledger.earning_reverse(
                earning=earning,
                amount_fen=amount,
                idempotency_key=f"tip-refund:{refund.out_refund_no}",
                reason=_("打赏已退款"),
            )
    if fully and intent.status == TipIntent.Status.PAID:
        intent.status = TipIntent.Status.REFUNDED
        intent.save(update_fields=["status"])
        target_model = Post if intent.post_id else Comment
        target_model.objects.filter(pk=intent.post_id or intent.comment_id, tip_count__gt=0).update(
            tip_count=F("tip_count") - 1, tip_total_fen=F("tip_total_fen") - intent.amount_fen
        )


# ---- paid questions --------------------------------------------------------------------------------------


def paid_question_create(*, circle: Circle, asker, guest, body: str) -> PaidQuestion:
    """A member asks a guest; paid through orders (item type `circle_question`).

    The text is checked here, before payment: the verdict is kept on the row so the paid transaction
    never calls WeChat (a `review` question is published into the moderation queue once paid).
    """
    _require_post(asker, circle)
    if not circle.qa_enabled or circle.qa_price_fen <= 0:
        raise ApplicationError("qa_unavailable", _("该圈子未开放付费问答"))
    if guest.pk == asker.pk:
        raise ApplicationError("invalid", _("不能向自己提问"), fields={"guest_id": [_("不能向自己提问")]})
    guest_access = circle_access(guest, circle)
    if guest_access.role not in (Role.GUEST, Role.OWNER) or not guest_access.can_read:
        raise ApplicationError("invalid", _("只能向圈主或嘉宾提问"), fields={"guest_id": [_("不是嘉宾")]})
    body = plain_text(body)
    if not body or len(body) > 2000:
        raise ApplicationError("invalid", _("问题不能为空且不超过 2000 字"), fields={"body": [_("必填")]})
    status = _check_text(user=asker, text=body)
    return PaidQuestion.objects.create(
        circle=circle,
        asker=asker,
        guest=guest,
        body=body,
        price_fen=circle.qa_price_fen,
        needs_review=status == Post.Status.REVIEW,
    )


def paid_question_fulfil(*, order) -> PaidQuestion:
    """Inside the paid transaction: publish the question post and start the guest's answer deadline."""
    question = (
        PaidQuestion.objects.select_for_update(of=("self",))
        .select_related("circle", "asker", "guest")
        .get(pk=int(order.item_id))
    )
    if question.order_no == order.order_no or question.status != PaidQuestion.Status.CREATED:
        if question.order_no != order.order_no:
            logger.warning("paid question %s paid again by %s", question.pk, order.order_no)
        return question
    now = order.paid_at or timezone.now()
    status = Post.Status.REVIEW if question.needs_review else Post.Status.VISIBLE
    post = Post.objects.create(
        circle=question.circle,
        author=question.asker,
        kind=Post.Kind.QUESTION,
        title=_("向 %(guest)s 提问") % {"guest": question.guest.display_name},
        body=question.body,
        status=status,
    )
    if status == Post.Status.VISIBLE:
        _post_became_visible(post)
    question.status = PaidQuestion.Status.OPEN
    question.order_no = order.order_no
    question.paid_at = now
    question.deadline = now + timedelta(days=question.circle.qa_answer_days)
    question.post = post
    question.save()
    _notify(
        user=question.guest,
        kind="circle_question",
        title=_("%(who)s 向你付费提问") % {"who": question.asker.display_name},
        body=_("请在 %(date)s 前回答：%(q)s")
        % {"date": timezone.localtime(question.deadline).strftime("%m-%d %H:%M"), "q": question.body[:40]},
        url=f"/circles/posts/{post.pk}/",
        subscribe=True,
    )
    return question


def _paid_question_release(*, question: PaidQuestion, now: datetime) -> None:
    """The answer is visible: accrue the fee (less the platform fee) to the guest, held like a commission.

    Called with the question row locked. Idempotent on the ledger key.
    """
    from payments import items, ledger
    from payments.models import Order

    order = Order.objects.get(order_no=question.order_no)
    fee_bp = CircleSettings.current().qa_platform_fee_bp
    share = apply_bp(order.amount_fen - order.refunded_fen, 10_000 - fee_bp)
    question.status = PaidQuestion.Status.ANSWERED
    if share > 0:
        earning = ledger.earning_accrue(
            user=question.guest,
            amount_fen=share,
            source="qa_fee",
            idempotency_key=f"qa:{order.order_no}",
            hold_until=now + items.get(order.item_type).refund_window,
            order=order,
            description=_("付费问答：%(circle)s") % {"circle": question.circle.name},
        )
        question.earning_id = earning.pk
    question.save(update_fields=["status", "earning_id"])
    _notify(
        user=question.asker,
        kind="circle_answer",
        title=_("%(who)s 回答了你的问题") % {"who": question.guest.display_name},
        body=question.body[:60],
        url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
        subscribe=True,
    )


def paid_question_answer(*, question: PaidQuestion, user, body: str) -> PaidQuestion:
    """The guest answers before the deadline. A visible answer releases the fee to the guest at once;
    an answer held for review releases it when a moderator approves it (rejected → the question is
    open again, and refunded by the sweep if the deadline passes)."""
    if question.guest_id != user.pk:
        raise ApplicationError("not_found", _("问题不存在"), status_code=404)
    circle = question.circle
    _require_post(user, circle)
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("回答不能为空"), fields={"body": [_("必填")]})
    if len(body) > MAX_BODY_CHARS:
        raise ApplicationError("invalid", _("内容过长"), fields={"body": [_("内容过长")]})
    status = _check_text(user=user, text=body)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            PaidQuestion.objects.select_for_update(of=("self",))
            .select_related("circle", "asker", "guest")
            .get(pk=question.pk)
        )
        if locked.status in (PaidQuestion.Status.ANSWERED, PaidQuestion.Status.REVIEW):
            raise ApplicationError("already_answered", _("已经回答过了"), status_code=409)
        if locked.status != PaidQuestion.Status.OPEN or (locked.deadline and locked.deadline <= now):
            raise ApplicationError("question_expired", _("已超过回答期限，费用已退回提问者"), status_code=409)
        answer = Post.objects.create(
            circle=circle,
            author=user,
            kind=Post.Kind.ANSWER,
            title=_("回答：%(q)s") % {"q": locked.body[:30]},
            body=body,
            status=status,
            question=locked.post,
        )
        locked.answered_at = now
        locked.answer_post = answer
        locked.save(update_fields=["answered_at", "answer_post"])
        if status == Post.Status.VISIBLE:
            _post_became_visible(answer)
            _paid_question_release(question=locked, now=now)
        else:
            locked.status = PaidQuestion.Status.REVIEW
            locked.save(update_fields=["status"])
    return locked


def _paid_answer_moderated(*, post: Post, approved: bool) -> None:
    """A moderator decided on an answer held for review (called with the post locked)."""
    question = (
        PaidQuestion.objects.select_for_update(of=("self",))
        .select_related("circle", "asker", "guest")
        .filter(answer_post_id=post.pk, status=PaidQuestion.Status.REVIEW)
        .first()
    )
    if question is None:
        return
    if approved:
        _paid_question_release(question=question, now=timezone.now())
        return
    question.status = PaidQuestion.Status.OPEN
    question.answer_post = None
    question.answered_at = None
    question.save(update_fields=["status", "answer_post", "answered_at"])
    _notify(
        user=question.guest,
        kind="circle_answer_rejected",
        title=_("你的回答未通过审核，请在期限内重新回答"),
        body=question.body[:60],
        url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
    )


def paid_question_revoke(*, order, refund) -> None:
    """A refund of a paid question (sweep, operator, or the asker before an answer) voids or claws
    back the guest's share in proportion."""
    from payments import ledger
    from payments.models import Earning

    question = PaidQuestion.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    if question is None:
        return
    fully = order.refunded_fen >= order.amount_fen
    if question.earning_id:
        earning = Earning.objects.get(pk=question.earning_id)
        remaining = earning.amount_fen - earning.reversed_fen
        amount = (
            remaining if fully else min(remaining, earning.amount_fen * refund.amount_fen // order.amount_fen)
        )
        if amount > 0:
            ledger.earning_reverse(
                earning=earning,
                amount_fen=amount,
                idempotency_key=f"qa-refund:{refund.out_refund_no}",
                reason=_("付费问答已退款"),
            )
    if fully and question.status in (
        PaidQuestion.Status.OPEN,
        PaidQuestion.Status.REVIEW,
        PaidQuestion.Status.EXPIRED,
    ):
        question.status = PaidQuestion.Status.REFUNDED
        question.save(update_fields=["status"])


def paid_question_expire(*, question_id: int, now: datetime | None = None) -> bool:
    """An unanswered paid question past its deadline: refund the asker in full (the WeChat refund is
    submitted after commit) and mark it; `paid_question_revoke` marks it refunded when WeChat confirms."""
    from payments.models import Order
    from payments.orders.refunds import refund_system_request

    now = now or timezone.now()
    with transaction.atomic():
        question = (
            PaidQuestion.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=question_id, status=PaidQuestion.Status.OPEN, deadline__lte=now)
            .first()
        )
        if question is None:
            return False
        order = Order.objects.get(order_no=question.order_no)
        if order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            try:
                refund_system_request(
                    order=order,
                    reason=_("嘉宾未在期限内回答，自动退款"),
                    cause=f"paid_question_expired:{question.pk}",
                )
            except ApplicationError as exc:
                if exc.code != "refund_in_progress":  # an operator's refund already covers it
                    raise
        question.status = PaidQuestion.Status.EXPIRED
        question.save(update_fields=["status"])
        _notify(
            user=question.asker,
            kind="circle_question_refund",
            title=_("你的付费提问未获回答，已自动退款"),
            body=question.body[:60],
            url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
            subscribe=True,
        )
    return True


# ---- sweep -----------------------------------------------------------------------------------------------


def circles_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire lapsed memberships (recorded for churn) and refund paid questions nobody answered."""
    from circles.selectors import paid_questions_due

    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                CircleMembership.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(
                    status=MStatus.ACTIVE,
                    role__in=(Role.MEMBER, Role.TRIAL),
                    via_tier=False,
                    expires_at__lte=now,
                )
                .order_by("pk")[:limit]
            )
            for membership in due:
                old = membership.role
                membership.role = Role.EXPIRED
                membership.save(update_fields=["role", "updated_at"])
                _event(membership, Event.EXPIRED, was=old, expires_at=membership.expires_at)
            expired += len(due)
        if len(due) < limit:
            break
    refunded = 0
    for question_id in list(paid_questions_due(now=now).values_list("pk", flat=True)[:limit]):
        try:
            if paid_question_expire(question_id=question_id, now=now):
                refunded += 1
        except Exception:  # one broken order must not stop the others' refunds; retried next sweep
            logger.exception("paid question %s: automatic refund failed", question_id)
    return {"expired": expired, "questions_refunded": refunded}
