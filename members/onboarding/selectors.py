"""Onboarding reads: the member's four-step checklist, the operators' funnel and stuck list, and the
reps: who is an active sales rep, which staff see only their assigned members and which members those
are."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from members.models import Onboarding, User
from members.profile.selectors import house_nickname, profile_for_user


def active_sales_reps():
    """Staff who may be credited with a sale (销售): active, with staff status, in the sales role.
    A blocked account or a former employee (staff status or the role removed) is not one."""
    return User.objects.filter(is_active=True, is_staff=True, groups__name=roles.SALES).distinct()


def is_active_sales_rep(user: User | None) -> bool:
    if user is None or not user.pk:
        return False
    return active_sales_reps().filter(pk=user.pk).exists()


def _group_payload(group, *, show_qr: bool = True) -> dict | None:
    if group is None:
        return None
    return {
        "name": group.name,
        "qr_url": group.qr_image.url if (show_qr and group.qr_valid) else None,
        "staff": [
            {"name": row.user.display_name, "role": row.get_role_display()} for row in group.staff_roles.all()
        ],
    }


def onboarding_checklist(user: User) -> dict | None:
    """The member's four steps with their status, the groups (the big group's QR only once the
    self-introduction is in) and the suggested house nickname; None before the first membership."""
    onboarding = (
        Onboarding.objects.select_related("sales_rep", "service_rep", "service_group", "big_group")
        .prefetch_related("service_group__staff_roles__user", "big_group__staff_roles__user")
        .filter(user=user)
        .first()
    )
    if onboarding is None:
        return None
    profile = profile_for_user(user)
    reps = ", ".join(
        f"{label} {person.display_name}"
        for label, person in ((_("销售顾问"), onboarding.sales_rep), (_("客服"), onboarding.service_rep))
        if person is not None
    )
    steps = [
        {
            "key": "reps",
            "title": _("分配专属顾问"),
            "done": onboarding.reps_assigned_at is not None,
            "done_at": onboarding.reps_assigned_at,
            "detail": reps or _("顾问分配中"),
        },
        {
            "key": "service_group",
            "title": _("加入对接群"),
            "done": onboarding.service_group_joined_at is not None,
            "done_at": onboarding.service_group_joined_at,
            "detail": onboarding.service_group.name if onboarding.service_group else "",
        },
        {
            "key": "intro",
            "title": _("提交自我介绍"),
            "done": onboarding.intro_submitted_at is not None,
            "done_at": onboarding.intro_submitted_at,
            "detail": _("姓名、城市、行业和一段自我介绍"),
        },
        {
            "key": "big_group",
            "title": _("加入会员大群"),
            "done": onboarding.big_group_joined_at is not None,
            "done_at": onboarding.big_group_joined_at,
            "detail": onboarding.big_group.name if onboarding.big_group else "",
        },
    ]
    return {
        "onboarding": onboarding,
        "stage": onboarding.stage,
        "steps": steps,
        "service_group": _group_payload(onboarding.service_group),
        "big_group": _group_payload(onboarding.big_group, show_qr=onboarding.intro_submitted_at is not None),
        "suggested_nickname": house_nickname(
            user=user, real_name=profile.real_name, city=profile.city, industry=profile.industry
        ),
    }


def onboarding_funnel() -> list[dict]:
    """How many members reached each step (and are at it now), for the operators' funnel."""
    totals = Onboarding.objects.aggregate(
        started=Count("pk"),
        reps=Count("pk", filter=Q(reps_assigned_at__isnull=False)),
        service_group=Count("pk", filter=Q(service_group_joined_at__isnull=False)),
        intro=Count("pk", filter=Q(intro_submitted_at__isnull=False)),
        big_group=Count("pk", filter=Q(big_group_joined_at__isnull=False)),
    )
    at_stage = dict(Onboarding.objects.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    rows = [{"key": "started", "label": _("开始入会"), "reached": totals["started"], "at": None}]
    for stage, label in Onboarding.Stage.choices:
        rows.append(
            {
                "key": stage,
                "label": str(label),
                "reached": totals.get(stage, totals["started"])
                if stage != "done"
                else at_stage.get("done", 0),
                "at": at_stage.get(stage, 0),
            }
        )
    for row in rows:
        row["percent"] = round(100 * row["reached"] / totals["started"]) if totals["started"] else 0
    return rows


def onboarding_stuck(*, days: int, stage: str = "", now=None):
    """Members at a step (not done) for more than `days` days, longest waiting first."""
    now = now or timezone.now()
    rows = (
        Onboarding.objects.select_related("user", "tier", "sales_rep", "service_rep")
        .exclude(stage=Onboarding.Stage.DONE)
        .filter(stage_since__lte=now - timedelta(days=days))
        .order_by("stage_since")
    )
    if stage:
        rows = rows.filter(stage=stage)
    return rows


def rep_scoped(staff: User) -> bool:
    """Sales (销售) and customer-service (客服) staff see only the members assigned to them; operators and
    superusers see everyone."""
    if staff.is_superuser or roles.has_role(staff, roles.OPERATOR):
        return False
    return roles.has_role(staff, roles.SALES) or roles.has_role(staff, roles.CUSTOMER_SERVICE)


def assigned_member_ids(rep: User):
    """Ids of the members whose onboarding names `rep` as sales or service rep (a subquery)."""
    return Onboarding.objects.filter(Q(sales_rep=rep) | Q(service_rep=rep)).values("user_id")
