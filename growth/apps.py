from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrowthConfig(AppConfig):
    """Growth tools a creator sells with besides list prices and referral links (docs/architecture.md):
    redeem codes today. Every one of them sells through payments' item registry, so fulfilment,
    revocation and reports work as for any order."""

    name = "growth"
    verbose_name = _("增长工具")
