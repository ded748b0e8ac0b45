from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrowthConfig(AppConfig):
    """Growth tools a creator sells with besides list prices and referral links (docs/architecture.md):
    redeem codes, flash sales, coupons, tags, segments and campaigns. Every one that sells goes through
    payments' item registry, so fulfilment, revocation and reports work as for any order."""

    name = "growth"
    verbose_name = _("增长工具")

    def ready(self) -> None:
        # Explicit wiring (not signals), so the order of effects reads in one place. Imported here:
        # the app registry is not ready at import time (these modules import models).
        from courses.camps.completion_hooks import on_term_completed
        from growth.coupons import holds as coupon_holds
        from growth.coupons import issuing, rules
        from growth.flash_sales import holds as flash_holds
        from growth.flash_sales import pricing
        from payments import items

        # Adjusters run in registration order: the referral app's promoter price came first (it is
        # earlier in INSTALLED_APPS); then the flash-sale price; the coupon last, to the price every
        # other discount left (growth/coupons/rules.py).
        items.add_quote_adjuster(pricing.quote_adjust)
        items.add_quote_adjuster(rules.coupon_quote_adjust)
        items.on_opened(flash_holds.hold_open)
        items.on_opened(coupon_holds.coupon_hold)
        items.on_closed(flash_holds.hold_release)
        items.on_closed(coupon_holds.coupon_release)
        items.on_paid(flash_holds.hold_sell)
        items.on_paid(coupon_holds.coupon_redeem)
        items.on_refunded(coupon_holds.coupon_return_for_refund)
        items.add_refund_terms(coupon_holds.coupon_refund_terms)
        on_term_completed(issuing.issue_on_camp_completed)
