"""The staff roles' model permissions (core/roles.py names the roles; `manage.py setup_roles` applies this).

What each role may do in admin and in the operators' console, as Django model permissions on groups:

- 运营 operator: runs content, community, members and referral programmes, member tags, segments and
  campaigns (and schedules their sends); sees money records read-only;
  the dashboard and exports of dashboard tables, orders and members; the schedules of non-money
  periodic tasks. No refunds, no withdrawals, no ledger writes (those are finance's), and no periodic
  task that could cause one (core.admin_beat).
- 财务 finance: money actions — order refunds, the withdrawal queue and its settings, reconciliation,
  ledger checks, staff-share month closes; the dashboard and every export including commissions and
  withdrawals. Who may take a money action is one rule, `core.roles.is_money_operator` (this group),
  used by the services, by admin views and by every admin action's `allowed_permissions`; the model
  permissions that go with money writes (`payments.change_order`, `payments.change_withdrawal`, …) are
  granted to this group only (`role_permissions` strips them from every other role), so the two agree.
- 讲师 teacher: their courses, camps, terms, the check-in review queue and the moderation queue of their
  camps, their lessons' quizzes and homework and the homework review (own courses and camps only:
  courses.admin).
- 圈主 circle owner: their circles, posts, comments and members (own circles only: circles.admin).
- 销售 sales: members and their onboarding (assignment limits live in members).
- 客服 customer service: onboarding steps, member profiles, service groups.

Object-level limits ("own camps", "own circles") are enforced where the objects live; these are the
model-level grants. Unknown models (an app not installed yet) are skipped, so the command can run early.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from core import roles

VIEW = ("view",)
EDIT = ("view", "add", "change")
FULL = ("view", "add", "change", "delete")

# (app_label, model names | "*" | "perm", actions): later entries add to earlier ones; "perm" names custom
# permissions by codename.

ROLE_GRANTS: dict[str, list[tuple[str, str | tuple[str, ...], tuple[str, ...]]]] = {
    roles.OPERATOR: [
        ("payments", "*", VIEW),
        ("core", ("auditlog", "wechatidentity", "attemptcounter"), VIEW),
        ("core", ("brand",), EDIT),  # the creator's brand: name, colours, footer
        ("members", "*", VIEW),
        (
            "members",
            (
                "user",
                "membership",
                "membershiptier",
                "subscribetemplate",
                "servicegroup",
                "servicegroupstaff",
                "memberprofile",
                "onboarding",
                "reward",
                "notification",
            ),
            EDIT,
        ),
        ("members", ("servicegroupstaff", "reward"), ("delete",)),
        ("courses", "*", FULL),
        ("circles", "*", VIEW),
        ("circles", ("circle", "circlerules", "circlesettings", "post", "comment", "circlemembership"), EDIT),
        ("referrals", "*", VIEW),
        (
            "referrals",
            (
                "referralsettings",
                "promoter",
                "promoterlevel",
                "promoterprice",
                "promoteragreement",
                "commissionrule",
                "groupbuyoffer",
                "referralbinding",
                "staffsharebracket",
                "saleslead",
                "salesteam",
                "salesteammember",
            ),
            EDIT,
        ),
        # Redeem-code batches for companies: made and revoked here (benefits, audited), never deleted.
        ("growth", "*", VIEW),
        ("growth", ("redeemcodebatch", "redeemcode"), EDIT),
        # Tags, segments and campaigns: operators write them and schedule sends (`send_campaign`, a
        # permission of its own so a superuser can give sending to other staff, or take it away).
        ("growth", ("tag", "membertag", "segment", "campaign"), EDIT),
        ("growth", ("campaign",), ("delete",)),  # drafts only (growth.admin.campaigns)
        ("growth", "perm", ("send_campaign",)),
        # Flash sales: set, changed and stopped here (prices, audited); never deleted, holds read-only.
        ("growth", ("flashsale",), EDIT),
        # Coupons: made, issued (the members list's action needs add_membercoupon) and revoked here,
        # never deleted; redemptions are records of paid orders (view only).
        ("growth", ("coupon", "membercoupon"), EDIT),
        # Beat: look at everything, pick schedules of non-money tasks (core.admin_beat), add a new
        # schedule row to pick; never add, delete or re-aim a periodic task, never edit a shared
        # schedule row (a money task may use it).
        ("django_celery_beat", "*", VIEW),
        ("django_celery_beat", ("periodictask",), ("change",)),
        (
            "django_celery_beat",
            ("intervalschedule", "crontabschedule", "solarschedule", "clockedschedule"),
            ("add",),
        ),
        ("insights", ("operationsreport",), VIEW),
        ("insights", "perm", ("view_dashboard", "export_reports")),
    ],
    roles.FINANCE: [
        ("payments", "*", VIEW),
        ("payments", ("order", "withdrawal", "withdrawalsettings", "reconciliationmismatch"), ("change",)),
        ("payments", ("ledgercheckrun",), ("add",)),
        ("core", ("auditlog",), VIEW),
        ("members", ("user", "membership", "membershipgrant", "membershiptier", "pointsaccount"), VIEW),
        ("referrals", ("commission", "promoter", "referralbinding", "groupbuy", "groupbuymember"), VIEW),
        # what codes, coupons and flash sales gave away beside the orders they made (not members' tags
        # or messages)
        (
            "growth",
            (
                "redeemcodebatch",
                "redeemcode",
                "coupon",
                "membercoupon",
                "couponredemption",
                "flashsale",
                "flashsalehold",
            ),
            VIEW,
        ),
        (
            "referrals",
            (
                "staffsharebracket",
                "staffsharemonth",
                "staffsharestatement",
                "staffshareline",
                "staffshareadjustment",
                "staffshareoverride",
                "staffshareoverrideadjustment",
                "salesteam",
                "salesteammember",
            ),
            VIEW,
        ),
        ("referrals", ("staffsharemonth",), ("add",)),
        ("circles", ("tipintent", "paidquestion"), VIEW),
        ("insights", ("operationsreport",), VIEW),
        ("insights", "perm", ("view_dashboard", "export_reports", "export_finance")),
    ],
    roles.TEACHER: [
        ("courses", ("course", "lesson", "camp", "camptask", "term", "event", "mediaasset"), EDIT),
        ("courses", ("quiz", "quizquestion", "quizoption", "homework"), EDIT),
        ("courses", ("lesson", "camptask", "quizquestion", "quizoption"), ("delete",)),
        ("courses", ("checkin", "checkinmoderation", "homeworksubmission"), ("view", "change")),
        (
            "courses",
            (
                "termseat",
                "courseenrolment",
                "eventregistration",
                "lessonprogress",
                "quizattempt",
                "coursecompletion",
            ),
            VIEW,
        ),
    ],
    roles.CIRCLE_OWNER: [
        ("circles", ("circle", "circlerules", "post", "comment", "circlemembership"), EDIT),
        ("circles", ("circlemembershipevent", "tipintent", "paidquestion", "rulesacceptance"), VIEW),
    ],
    roles.SALES: [
        ("members", ("user", "membership", "membershipgrant", "memberprofile"), VIEW),
        ("members", ("onboarding",), ("view", "change")),
        ("referrals", ("referralbinding", "saleslead"), VIEW),
    ],
    roles.CUSTOMER_SERVICE: [
        ("members", ("user", "membership", "servicegroup", "servicegroupstaff"), VIEW),
        ("members", ("onboarding", "memberprofile"), ("view", "change")),
    ],
}


def role_permissions(role: str) -> set[Permission]:
    """The permissions of one role, resolved against the installed models."""
    perms: set[Permission] = set()
    for app_label, models, actions in ROLE_GRANTS.get(role, []):
        qs = Permission.objects.filter(content_type__app_label=app_label).select_related("content_type")
        if models == "perm":  # custom permissions named directly
            perms.update(qs.filter(codename__in=actions))
            continue
        if models != "*":
            qs = qs.filter(content_type__model__in=models)
        for perm in qs:
            action = perm.codename.split("_", 1)[0]
            if perm.codename == f"{action}_{perm.content_type.model}" and action in actions:
                perms.add(perm)
    if role != roles.FINANCE:
        # Everyone else reads money records at most: refunds, payouts and ledger writes are finance's.
        perms = {
            p
            for p in perms
            if not (p.content_type.app_label == "payments" and not p.codename.startswith("view_"))
        }
    return perms


def roles_setup() -> dict[str, int]:
    """Create the role groups and set each one's permissions to the defaults above. Idempotent.

    Other groups are left alone; a role group's extra permissions added by hand are reset.
    """
    counts = {}
    with transaction.atomic():
        for role in roles.ALL_ROLES:
            group, _created = Group.objects.get_or_create(name=role)
            perms = role_permissions(role)
            group.permissions.set(perms)
            counts[role] = len(perms)
    return counts


__all__ = ["ROLE_GRANTS", "role_permissions", "roles_setup"]
