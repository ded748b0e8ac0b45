from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrowthConfig(AppConfig):
    """Growth tools a creator sells with besides list prices and referral links (docs/architecture.md):
    redeem codes and flash sales. Every one of them sells through payments' item registry, so
    fulfilment, revocation and reports work as for any order."""

    name = "growth"
    verbose_name = _("增长工具")

    def ready(self) -> None:
        # the app registry is not ready at import time
        from growth.flash_sales import holds, pricing
        from payments import items

        # Adjusters run in registration order: the referral app's promoter price came first (it is
        # earlier in INSTALLED_APPS); the flash-sale price goes here, before the coupon adjuster, so a
        # coupon applies last, to the price the sale left.
        items.add_quote_adjuster(pricing.quote_adjust)
        items.on_opened(holds.hold_open)
        items.on_closed(holds.hold_release)
        items.on_paid(holds.hold_sell)
