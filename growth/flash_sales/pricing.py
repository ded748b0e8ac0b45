"""The flash-sale price in a quote (`payments.items.add_quote_adjuster`, registered in
`growth.apps` after the referral adjuster and before the coupon adjuster).

The rule, written once here: while a sale runs and has a unit left for this buyer, the buyer pays the
sale price — minus a membership upgrade's credit for unused days, which is the buyer's own money —
unless what they would pay without it is already lower (a tier discount, a prorated circle price, a
promoter price): discounts never stack, the buyer gets the lower of the two. The line `限时特价`
carries the difference from the price so far, and `flash_sale_id` in the quote's context is what the
order's opened listener (`growth.flash_sales.holds.hold_open`) takes a unit of.

Reads only: pages and the quote API price through it as well as orders.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from growth.flash_sales import selectors
from payments.items import Quote

# What a sale can be for: things a person buys at a list price. Not tips, paid questions or group-buy
# seats (their price is decided at the moment of buying), nor membership days (never sold for money).
SALE_ITEM_TYPES = ("membership", "course", "circle", "event", "camp")


def sale_line_label() -> str:
    return _("限时特价")


def quote_adjust(
    *, user, item_type, item_id: str, quote: Quote, referral_code: str = "", coupon_code: str = ""
) -> Quote:
    del referral_code, coupon_code  # the referral and coupon adjusters' business
    code = getattr(item_type, "code", str(item_type))
    if code not in SALE_ITEM_TYPES:
        return quote
    sale = selectors.sale_running_for(item_type=code, item_id=item_id)
    if sale is None or sale.left <= 0:
        return quote
    if selectors.member_units(sale=sale, user=user) >= sale.per_member_limit:
        return quote  # this member had their units: the usual price, as for anyone after the sale
    credit_fen = int(quote.context.get("credit_fen") or 0)
    price_fen = max(0, sale.sale_price_fen - credit_fen)
    if price_fen >= quote.amount_fen:
        return quote
    return quote.with_line(sale_line_label(), price_fen - quote.amount_fen, flash_sale_id=sale.pk)
