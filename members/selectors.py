"""Reads about members. `active_membership` and `member_has_tier` are what every app uses."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import (
    Membership,
    MembershipTier,
    Notification,
    PointsAccount,
    PointsEntry,
    SubscribeOptIn,
    SubscribeTemplate,
    User,
)


def active_membership(user: User) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.select_related("tier").filter(user=user).first()
    if membership and membership.starts_at <= timezone.now() < membership.ends_at:
        return membership
    return None


def active_sales_reps():
    """Staff who may be credited with a sale (销售): active, with staff status, in the sales role.
    A blocked account or a former employee (staff status or the role removed) is not one."""
    from core import roles

    return User.objects.filter(is_active=True, is_staff=True, groups__name=roles.SALES).distinct()


def is_active_sales_rep(user: User | None) -> bool:
    if not getattr(user, "pk", None):
        return False
    return active_sales_reps().filter(pk=user.pk).exists()


def member_has_tier(user: User, tier: MembershipTier | str) -> bool:
    """True when the user's active membership ranks at or above `tier` (rank-inclusive)."""
    membership = active_membership(user)
    if membership is None:
        return False
    if isinstance(tier, str):
        tier = MembershipTier.objects.filter(code=tier).first()
        if tier is None:
            return False
    return membership.tier.rank >= tier.rank


def active_tier_ids(user: User) -> set[int]:
    """Ids of every tier the user's membership includes (its own and all lower ranks).

    One statement (the active membership's rank as a subquery): catalogs and course pages ask this on
    every request.
    """
    if not getattr(user, "is_authenticated", False):
        return set()
    now = timezone.now()
    rank = Membership.objects.filter(user=user, starts_at__lte=now, ends_at__gt=now).values("tier__rank")[:1]
    return set(MembershipTier.objects.filter(rank__lte=Subquery(rank)).values_list("id", flat=True))


@dataclass(frozen=True)
class MembershipBrief:
    tier_code: str
    starts_at: datetime
    ends_at: datetime


def membership_and_points(user: User) -> tuple[MembershipBrief | None, int]:
    """The active membership (tier code and window) and `points_balance(user)` in one statement, with
    or without a membership or points (the "me" answer, asked on every app start). Four plain columns,
    no model instances: building and compiling the full rows cost more than the statement itself."""
    if not getattr(user, "is_authenticated", False):
        return None, 0
    rows = list(
        User.objects.filter(pk=user.pk).values_list(
            "membership__tier__code",
            "membership__starts_at",
            "membership__ends_at",
            "points_account__balance",
        )[:1]
    )
    if not rows:
        return None, 0
    code, starts_at, ends_at, balance = rows[0]
    if code is not None and starts_at <= timezone.now() < ends_at:
        return MembershipBrief(code, starts_at, ends_at), balance or 0
    return None, balance or 0


def tiers_for_sale():
    return MembershipTier.objects.filter(is_active=True).order_by("rank")


def tier_discount_bp(user: User) -> int:
    """The single-purchase discount (basis points) of the user's active tier; 0 without one."""
    membership = active_membership(user)
    return int(membership.tier.single_purchase_discount_bp) if membership else 0


# ---- notifications ---------------------------------------------------------------------------------------


def subscribe_optins_left(user: User, template_key: str) -> int:
    if not getattr(user, "pk", None):
        return 0
    return (
        SubscribeOptIn.objects.filter(user=user, template_key=template_key)
        .values_list("remaining", flat=True)
        .first()
        or 0
    )


def subscribe_optins_for_user(user: User) -> list[dict]:
    """Each active template with the member's opt-ins left (what the mini-program asks to top up)."""
    left = dict(SubscribeOptIn.objects.filter(user=user).values_list("template_key", "remaining"))
    return [
        {
            "template_key": template.key,
            "template_id": template.template_id,
            "name": template.name,
            "remaining": left.get(template.key, 0),
        }
        for template in SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="")
    ]


def notifications_for_user(user: User):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notifications_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---- points ------------------------------------------------------------------------------------------------


def points_balance(user: User) -> int:
    if not getattr(user, "pk", None):
        return 0
    return PointsAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def points_history(user: User):
    return PointsEntry.objects.filter(user=user).order_by("-created_at", "-id")


# ---- membership offers (start / renew / upgrade) ------------------------------------------------------------


def days_left(membership: Membership | None, *, now=None) -> int:
    """Whole calendar days (Asia/Shanghai) until the end; 0 on the last day or once ended."""
    if membership is None:
        return 0
    now = now or timezone.now()
    if membership.ends_at <= now:
        return 0
    return max(0, (timezone.localdate(membership.ends_at) - timezone.localdate(now)).days)


def membership_window_value(membership: Membership) -> tuple[int, int]:
    """(cash value, days) of the current tier's window: the basis of upgrade credit.

    The sum over the window's grants still in force (purchases count what was paid plus any upgrade
    credit; operator gifts and points count days but no cash). Memberships without history (created
    before grants were recorded) are valued at the tier's list price for its duration.
    """
    from members.models import MembershipGrant

    grants = list(
        MembershipGrant.objects.filter(
            membership=membership,
            revoked_at__isnull=True,
            tier=membership.tier,
            starts_after__gte=membership.starts_at,
        ).values_list("value_fen", "days")
    )
    if not grants:
        return membership.tier.price_fen, membership.tier.duration_days
    return sum(value for value, _days in grants), sum(days for _value, days in grants)


def upgrade_credit(
    membership: Membership, *, now=None, window: tuple[int, int] | None = None
) -> tuple[int, int]:
    """(credit in fen, unused days): the unused part of the current membership, pro rata by days, floor.

    `window`: `membership_window_value(membership)` when the caller already has it (lists of offers).
    """
    unused = days_left(membership, now=now)
    value, days = window if window is not None else membership_window_value(membership)
    if unused <= 0 or days <= 0 or value <= 0:
        return 0, unused
    return value * unused // days, unused


class MembershipOffer:
    """What buying `tier` means for this user right now: start, renew or upgrade, and its price."""

    START, RENEW, UPGRADE = "start", "renew", "upgrade"

    def __init__(
        self, *, tier: MembershipTier, kind: str, current: Membership | None, credit_fen=0, unused_days=0
    ):
        self.tier = tier
        self.kind = kind
        self.current = current
        self.unused_days = unused_days
        self.credit_fen = min(credit_fen, tier.price_fen)

    @property
    def list_price_fen(self) -> int:
        return self.tier.price_fen

    @property
    def amount_fen(self) -> int:
        return self.tier.price_fen - self.credit_fen


class LowerTierActive(Exception):
    def __init__(self, membership: Membership, tier: MembershipTier):
        super().__init__(f"{membership.tier.code} active; {tier.code} is lower")
        self.membership = membership
        self.tier = tier


_UNSET = object()


def membership_offer(
    user: User, tier: MembershipTier, *, now=None, current=_UNSET, window: tuple[int, int] | None = None
) -> MembershipOffer:
    """Raises LowerTierActive when the user holds a higher tier (buying lower would waste money).

    Lists of offers pass `current` (`active_membership(user)`) and `window` (its
    `membership_window_value`) read once for every tier.
    """
    now = now or timezone.now()
    if current is _UNSET:
        current = active_membership(user)
    if current is not None and not (current.starts_at <= now < current.ends_at):
        current = None
    if current is None:
        return MembershipOffer(tier=tier, kind=MembershipOffer.START, current=None)
    if current.tier.rank == tier.rank:
        return MembershipOffer(tier=tier, kind=MembershipOffer.RENEW, current=current)
    if current.tier.rank > tier.rank:
        raise LowerTierActive(current, tier)
    credit, unused = upgrade_credit(current, now=now, window=window)
    return MembershipOffer(
        tier=tier, kind=MembershipOffer.UPGRADE, current=current, credit_fen=credit, unused_days=unused
    )


def membership_for_user(user: User) -> Membership | None:
    """The user's membership row, active or not (pages show an expired one with a renew button)."""
    if not getattr(user, "pk", None):
        return None
    return Membership.objects.select_related("tier").filter(user=user).first()


def membership_get_for_user(*, user: User, membership_id: int) -> Membership | None:
    """A membership by id, only if it is the caller's (others' ids look like missing ones)."""
    return Membership.objects.select_related("tier", "user").filter(pk=membership_id, user=user).first()


def membership_grants(membership: Membership):
    return membership.grants.select_related("tier", "tier_before", "order").order_by("-created_at", "-id")


def _offer_basis(user: User, tiers: list[MembershipTier]) -> dict:
    """What every tier's offer needs, read once: the active membership and, when some tier on sale is
    an upgrade, its window value. Keeps lists of offers at a fixed number of queries."""
    current = active_membership(user)
    window = None
    if current is not None and any(tier.rank > current.tier.rank for tier in tiers):
        window = membership_window_value(current)
    return {"current": current, "window": window}


def membership_offers(user: User) -> list[MembershipOffer]:
    """Each tier on sale the user may buy now (renew or upgrade priced); lower tiers are left out."""
    offers = []
    tiers = list(tiers_for_sale())
    basis = _offer_basis(user, tiers)
    for tier in tiers:
        try:
            offers.append(membership_offer(user, tier, **basis))
        except LowerTierActive:
            continue
    return offers


def tier_comparison(user: User) -> list[dict]:
    """Rows for the tier comparison page: each tier with the user's offer or why it is not offered."""
    rows = []
    tiers = list(tiers_for_sale())
    basis = _offer_basis(user, tiers)
    for tier in tiers:
        try:
            offer = membership_offer(user, tier, **basis)
        except LowerTierActive as exc:
            rows.append({"tier": tier, "offer": None, "included_in": exc.membership.tier})
        else:
            rows.append({"tier": tier, "offer": offer, "included_in": None})
    return rows


# ---- onboarding and profile ---------------------------------------------------------------------------------


def profile_for_user(user: User):
    from members.models import MemberProfile

    return MemberProfile.objects.filter(user=user).first() or MemberProfile(user=user)


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
    from members.models import Onboarding

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
    from members.services import house_nickname

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
    from django.db.models import Count, Q

    from members.models import Onboarding

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
    from datetime import timedelta

    from members.models import Onboarding

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


# ---- points mall ----------------------------------------------------------------------------------------------


def rewards_for_user(user: User):
    """Rewards on the shelf, with how often this user redeemed each (one query)."""
    from django.db.models import Count, Q

    from members.models import Reward

    return (
        Reward.objects.filter(is_active=True)
        .annotate(redeemed_by_me=Count("redemptions", filter=Q(redemptions__user=user)))
        .order_by("sort_order", "points_price", "id")
    )


def redemptions_for_user(user: User):
    from members.models import Redemption

    return (
        Redemption.objects.filter(user=user).select_related("reward", "order").order_by("-created_at", "-id")
    )


# ---- staff scopes (admin) ----------------------------------------------------------------------------------


def rep_scoped(staff: User) -> bool:
    """Sales (销售) and customer-service (客服) staff see only the members assigned to them; operators and
    superusers see everyone."""
    from core import roles

    if staff.is_superuser or roles.has_role(staff, roles.OPERATOR):
        return False
    return roles.has_role(staff, roles.SALES) or roles.has_role(staff, roles.CUSTOMER_SERVICE)


def assigned_member_ids(rep: User):
    """Ids of the members whose onboarding names `rep` as sales or service rep (a subquery)."""
    from django.db.models import Q

    from members.models import Onboarding

    return Onboarding.objects.filter(Q(sales_rep=rep) | Q(service_rep=rep)).values("user_id")


# ---- the home page ------------------------------------------------------------------------------------------

RENEWAL_NUDGE_DAYS = 30


def tier_benefit_lines(tiers) -> dict[int, list[str]]:
    """What each tier really includes, generated by the content apps (`<app>.home.tier_benefits`)
    from their `included_in_tiers`, followed by the tier's own service lines (free text)."""
    from core.discovery import app_modules

    lines: dict[int, list[str]] = {tier.pk: [] for tier in tiers}
    for module in app_modules("home"):
        contribute = getattr(module, "tier_benefits", None)
        if contribute is None:
            continue
        for tier_id, extra in contribute(tiers).items():
            lines.setdefault(tier_id, []).extend(extra)
    for tier in tiers:
        lines[tier.pk].extend(tier.benefit_list)
    return lines


def home_context(user: User) -> dict:
    from core.discovery import app_modules

    now = timezone.now()
    tiers = list(tiers_for_sale())
    benefits = tier_benefit_lines(tiers)
    signed_in = getattr(user, "is_authenticated", False)
    membership = membership_for_user(user) if signed_in else None
    active = membership if membership and membership.starts_at <= now < membership.ends_at else None
    rows = []
    for tier in tiers:
        if active is None:
            state = "start"
        elif active.tier.rank == tier.rank:
            state = "current"
        elif active.tier.rank > tier.rank:
            state = "included"
        else:
            state = "upgrade"
        lines = benefits.get(tier.pk, [])
        held = set(benefits.get(active.tier.pk, [])) if active is not None else set()
        # an upgrade shows what it adds, not what the member already has
        rows.append(
            {"tier": tier, "benefits": lines, "extra": [x for x in lines if x not in held], "state": state}
        )
    context: dict = {"tier_rows": rows, "membership": membership, "active": active}
    if active is not None:
        days_left = (active.ends_at - now).days
        context["days_left"] = days_left
        context["renewal_due"] = days_left <= RENEWAL_NUDGE_DAYS
    context["lapsed"] = membership is not None and active is None
    for module in app_modules("home"):
        if active is None and hasattr(module, "visitor_panel"):
            context.update(module.visitor_panel())
        if signed_in and hasattr(module, "member_panel"):
            context.update(module.member_panel(user))
    if active is None:
        context["member_count"] = Membership.objects.filter(starts_at__lte=now, ends_at__gt=now).count()
    return context
