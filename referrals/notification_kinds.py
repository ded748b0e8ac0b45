"""What referrals' notification kinds are called in admin lists (core.discovery: `<app>.notification_kinds`)."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "referral_commission": _("推广佣金"),
    "referral_commission_skipped": _("佣金未发放"),
    "referral_level_up": _("推广等级提升"),
    "group_buy_opened": _("拼团开团"),
    "group_buy_succeeded": _("拼团成功"),
    "group_buy_expired": _("拼团失败"),
}
