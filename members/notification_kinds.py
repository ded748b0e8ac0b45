"""What members' notification kinds are called in admin lists (core.discovery: `<app>.notification_kinds`)."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "membership": _("会员开通"),
    "membership_expired": _("会员到期"),
    "renewal_reminder": _("续费提醒"),
    "onboarding": _("入会引导"),
    "onboarding_assigned": _("分配专属顾问"),
    "withdrawal": _("提现进度"),
}
