"""Four-layer onboarding (四层沉淀) writes: reps assigned by round-robin, the member's service group
(对接群), the big group (大群), each step confirmed by the member or marked by staff, reps reassigned.

`onboarding_refresh_stage` is shared with the profile (a self-introduction completes a step)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.audit import audit_record
from core.errors import ApplicationError
from members.models import MembershipTier, Onboarding, RepCursor, ServiceGroup, ServiceGroupStaff, User
from members.notifications.services import notification_send
from members.onboarding.selectors import is_active_sales_rep


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


def onboarding_refresh_stage(onboarding: Onboarding, *, now=None) -> list[str]:
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
    onboarding_refresh_stage(onboarding, now=now)
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
                    *onboarding_refresh_stage(onboarding, now=now),
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
                    *onboarding_refresh_stage(onboarding, now=now),
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
    field = STAFF_MARKABLE_STEPS.get(step)
    if field is None:
        raise ApplicationError("invalid_step", _("未知的步骤"))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Onboarding.objects.select_for_update(of=("self",)).get(pk=onboarding.pk)
        if getattr(locked, field) is None:
            setattr(locked, field, now)
            locked.save(update_fields=[field, *onboarding_refresh_stage(locked, now=now), "updated_at"])
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
        changed += onboarding_refresh_stage(locked, now=now)
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
