"""What a referral changes on an order's quote (payments.items.add_quote_adjuster): the referrer and
any promoter price (`referrals.promoters`), and the rep of record (`referrals.sales_credit`).

One adjuster for both, so the buyer's referral binding is read once per quote: both the referrer and
the rep of record may come from it. Reads only: payments also calls it to show a price on pages.
"""

from __future__ import annotations

from payments.items import Quote
from referrals.attribution import attribution_for_order
from referrals.promoters import quote_with_promoter_price
from referrals.sales_credit import quote_with_rep, sales_credit_for_order


def quote_adjust(
    *, user, item_type, item_id: str, quote: Quote, referral_code: str = "", coupon_code: str = ""
) -> Quote:
    del coupon_code  # coupons are the growth app's adjuster
    if not getattr(user, "is_authenticated", False):
        return quote
    attribution = attribution_for_order(user=user, referral_code=referral_code)
    quote = quote_with_promoter_price(
        user=user, item_type=item_type, item_id=item_id, quote=quote, attribution=attribution
    )
    credit = sales_credit_for_order(user=user, referral_code=referral_code, binding=attribution.binding)
    return quote_with_rep(quote=quote, credit=credit)
