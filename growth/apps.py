from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrowthConfig(AppConfig):
    """Growth tools a creator sells with besides list prices and referral links (docs/architecture.md):
    redeem codes and coupons. Every one of them sells through payments' item registry, so fulfilment,
    revocation and reports work as for any order."""

    name = "growth"
    verbose_name = _("增长工具")

    def ready(self) -> None:
        # Explicit wiring (not signals), so the order of effects reads in one place. Imported here:
        # the app registry is not ready at import time (these modules import models).
        from courses.camps.completion_hooks import on_term_completed
        from growth.coupons import holds, issuing, rules
        from payments import items

        # Coupons price last (INSTALLED_APPS puts growth after referrals, whose promoter price runs
        # first): a coupon applies to the price after every other discount (growth/coupons/rules.py).
        items.add_quote_adjuster(rules.coupon_quote_adjust)
        items.on_opened(holds.coupon_hold)
        items.on_closed(holds.coupon_release)
        items.on_paid(holds.coupon_redeem)
        items.on_refunded(holds.coupon_return_for_refund)
        items.add_refund_terms(holds.coupon_refund_terms)
        on_term_completed(issuing.issue_on_camp_completed)
