"""What members contributes through `core.discovery.app_modules("home")`: where a paid membership
order sends the member (the onboarding steps that follow joining)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _


def order_destination(order) -> tuple[str, str] | None:
    if order.item_type == "membership":
        return reverse("members:onboarding"), _("完成入会引导")
    if order.item_type == "membership_days":
        return reverse("members:account"), _("查看我的会员")
    return None
