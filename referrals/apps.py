from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("推广")

    def ready(self) -> None:
        # Explicit wiring (not signals), so the order of effects is readable in one place.
        from members.auth.services import on_user_signed_up
        from payments import items
        from referrals import commissions, group_buys, sales_credit, services

        items.register(group_buys.GroupBuyItemType())
        items.add_quote_adjuster(services.quote_adjust)
        items.add_quote_adjuster(sales_credit.quote_adjust)
        items.on_paid(commissions.commission_accrue_for_order)
        items.on_refunded(commissions.commission_reverse_for_refund)
        on_user_signed_up(services.on_user_signed_up)
