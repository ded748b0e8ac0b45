"""`{{ order.amount_fen|yuan }}` -> ¥3,600 (built into every template via TEMPLATES.builtins)."""

from typing import Any

from django import template

from core.money import fen_to_yuan_text

register = template.Library()


@register.filter
def yuan(amount_fen: Any) -> str:
    if amount_fen in (None, ""):
        return ""
    return fen_to_yuan_text(int(amount_fen))


@register.filter
def yuan2(amount_fen: Any) -> str:
    """Always two decimals (wallets, ledgers): ¥3,600.00."""
    if amount_fen in (None, ""):
        return ""
    return fen_to_yuan_text(int(amount_fen), always_decimals=True)


@register.filter
def bp_percent(rate_bp: Any) -> str:
    """1500 -> '15%'; 125 -> '1.25%'."""
    rate_bp = int(rate_bp or 0)
    whole, rest = divmod(rate_bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


@register.filter
def yuan_number(amount_fen: Any) -> str:
    """Plain yuan for form attributes (`min`, `max`, `value`): 150 -> '1.50' (no symbol, no commas)."""
    if amount_fen in (None, ""):
        return ""
    return fen_to_yuan_text(int(amount_fen), symbol=False, always_decimals=True).replace(",", "")
