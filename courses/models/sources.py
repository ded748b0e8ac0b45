"""How a member got a benefit, shared by enrolments, event registrations and camp seats."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Source",
]


class Source(models.TextChoices):
    """How a member got an enrolment, a registration or a camp seat."""

    PURCHASE = "purchase", _("购买")
    POINTS = "points", _("积分兑换")
    TIER = "tier", _("会员权益")
    FREE = "free", _("免费")
    GRANT = "grant", _("运营赠送")
