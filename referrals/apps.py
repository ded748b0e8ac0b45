from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("推广")

    def ready(self) -> None:
        # Explicit wiring (not signals), so the order of effects is readable in one place. Imported
        # here, not at the top: these modules import models, which cannot load before the app registry.
        from core.posters import set_brand_preview
        from members.auth.services import on_user_signed_up
        from payments import items
        from referrals import attribution, commissions, group_buys, order_quote, posters

        items.register(group_buys.GroupBuyItemType())
        items.add_quote_adjuster(order_quote.quote_adjust)
        items.on_paid(commissions.commission_accrue_for_order)
        items.on_refunded(commissions.commission_reverse_for_refund)
        on_user_signed_up(attribution.on_user_signed_up)
        # The brand admin's live preview shows the operator's own community poster (core/posters.py).
        set_brand_preview(posters.referral_poster_png)
