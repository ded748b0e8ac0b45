"""What growth's notification kinds are called in admin lists (core.discovery: `<app>.notification_kinds`)."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "campaign": _("运营活动"),
}
