"""The admin index grouped by job instead of by Django app: an operator looking for refunds finds them
under 销售与订单, not among ~90 models in app order. Models not listed fall into 系统 (so a new model
is never hidden). Installed by `core.apps.CoreConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (key, label, models as "app_label.model_name") in the order operators work
GROUPS: list[tuple[str, object, list[str]]] = [
    (
        "sales",
        _("销售与订单"),
        [
            "payments.order",
            "payments.refund",
            "payments.payment",
            "referrals.groupbuyoffer",
            "referrals.groupbuy",
            "referrals.saleslead",
            "referrals.salesteam",
            "growth.redeemcodebatch",
            "growth.redeemcode",
            "growth.flashsale",
            "growth.flashsalehold",
            "growth.coupon",
            "growth.membercoupon",
            "growth.couponredemption",
        ],
    ),
    (
        "members",
        _("会员"),
        [
            "members.user",
            "members.membershiptier",
            "members.membership",
            "members.membershipgrant",
            "members.onboarding",
            "members.servicegroup",
            "members.notification",
            "members.pointsaccount",
            "members.pointsentry",
            "members.reward",
            "members.redemption",
            "members.subscribetemplate",
            "members.subscribeoptin",
        ],
    ),
    (
        "content",
        _("内容"),
        [
            "courses.course",
            "courses.courseenrolment",
            "courses.lessonprogress",
            "courses.event",
            "courses.eventregistration",
            "courses.tiereventquota",
            "courses.camp",
            "courses.term",
            "courses.termseat",
            "courses.checkin",
            "courses.checkinmoderation",
            "courses.checkinreminder",
        ],
    ),
    (
        "community",
        _("社群"),
        [
            "circles.circle",
            "circles.circlemembership",
            "circles.post",
            "circles.comment",
            "circles.paidquestion",
            "circles.tipintent",
            "circles.circlemembershipevent",
            "circles.circlesettings",
        ],
    ),
    (
        "referrals",
        _("推广与分佣"),
        [
            "referrals.promoter",
            "referrals.promoterlevel",
            "referrals.commissionrule",
            "referrals.commission",
            "referrals.referralbinding",
            "referrals.bindingrefusal",
            "referrals.referrallinkstat",
            "referrals.promoteragreement",
            "referrals.agreementacceptance",
            "referrals.referralsettings",
            "referrals.staffsharebracket",
            "referrals.staffsharemonth",
            "referrals.staffsharestatement",
            "referrals.staffshareadjustment",
            "referrals.staffshareoverride",
        ],
    ),
    (
        "growth",
        _("增长工具"),
        [
            "growth.campaign",
            "growth.segment",
            "growth.tag",
            "growth.membertag",
            "growth.campaigndelivery",
            "growth.marketingpreference",
        ],
    ),
    (
        "finance",
        _("财务"),
        [
            "payments.withdrawal",
            "payments.withdrawalsettings",
            "payments.earning",
            "payments.account",
            "payments.transaction",
            "payments.settlementrun",
            "payments.ledgercheckrun",
            "payments.reconciliationrun",
            "payments.reconciliationmismatch",
            "payments.paymentnotification",
            "payments.sandboxtransfer",
        ],
    ),
    ("system", _("系统"), ["core.brand", "insights.operationsreport", "core.auditlog", "auth.group"]),
]
# Chinese names for models whose packages leave them in English (filled by core.admin_vendor).
_NAMES: dict[str, object] = {}


def rename(label_lower: str, name: object) -> None:
    """Show `app_label.model_name` under `name` in the grouped index."""
    _NAMES[label_lower] = name


_PLACE = {
    model: (index, position)
    for index, (_k, _l, models) in enumerate(GROUPS)
    for position, model in enumerate(models)
}


def grouped_app_list(
    site: admin.AdminSite, request: HttpRequest, app_label: str | None = None
) -> list[dict[str, Any]]:
    """`AdminSite.get_app_list` regrouped: one section per job with the models this user may see."""
    if app_label:  # an app's own index page keeps Django's layout
        return admin.AdminSite.get_app_list(site, request, app_label)
    apps = site._build_app_dict(request)
    sections: list[dict[str, Any]] = [
        {"name": label, "app_label": key, "app_url": "", "has_module_perms": True, "models": []}
        for key, label, _models in GROUPS
    ]
    system = sections[-1]
    for app in apps.values():
        for model in app["models"]:
            key = f"{app['app_label']}.{model['object_name'].lower()}"
            if key in _NAMES:
                model["name"] = _NAMES[key]
            index, position = _PLACE.get(key, (len(GROUPS) - 1, 1000))
            model["_order"] = position
            (sections[index] if key in _PLACE else system)["models"].append(model)
    for section in sections:
        section["models"].sort(key=lambda m: (m["_order"], str(m["name"])))
    return [section for section in sections if section["models"]]


def install(site: admin.AdminSite) -> None:
    # An instance attribute shadows the method for this site only (other AdminSites keep Django's list).
    site.get_app_list = lambda request, app_label=None: grouped_app_list(site, request, app_label)  # type: ignore[method-assign]
