"""Money is integer fen; rates are integer basis points (1 bp = 0.01%).

Rounding is always floor; whatever a split leaves over stays with the platform. The property tests
in tests/core/test_money.py prove that no fen is created or lost.
"""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

BP_DENOMINATOR = 10_000


class MoneyError(ValueError):
    pass


def fen_to_yuan_text(amount_fen: int, *, symbol: bool = True, always_decimals: bool = False) -> str:
    """3600_00 -> '¥3,600'; 12345 -> '¥123.45'; -50 -> '-¥0.50'."""
    amount_fen = int(amount_fen)
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    text = f"{yuan:,}" if (fen == 0 and not always_decimals) else f"{yuan:,}.{fen:02d}"
    return f"{sign}{'¥' if symbol else ''}{text}"


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse an operator-typed yuan amount ('3600', '3,600.5', '0.01') into fen; more than 2 decimals is an error."""
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise MoneyError(f"more than two decimals: {value!r}")
    return int(fen)


def fen_to_yuan_decimal(amount_fen: int) -> Decimal:
    return (Decimal(int(amount_fen)) / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def apply_bp(amount_fen: int, rate_bp: int) -> int:
    """The floor of amount × rate. Negative amounts are refused: reversals are computed on the positive side."""
    if amount_fen < 0 or rate_bp < 0:
        raise MoneyError("apply_bp takes non-negative amounts and rates")
    return amount_fen * rate_bp // BP_DENOMINATOR


def prorate(amount_fen: int, numerator: int, denominator: int) -> int:
    """The floor of amount × numerator / denominator (e.g. unused days of a membership)."""
    if denominator <= 0 or numerator < 0 or amount_fen < 0:
        raise MoneyError("prorate takes non-negative amounts and a positive denominator")
    numerator = min(numerator, denominator)
    return amount_fen * numerator // denominator


def split_by_bp(amount_fen: int, rates_bp: list[int]) -> tuple[list[int], int]:
    """Split an amount into floor(amount × rate) parts; return (parts, remainder for the platform).

    sum(parts) + remainder == amount_fen always holds and every part is ≥ 0.
    """
    if sum(rates_bp) > BP_DENOMINATOR:
        raise MoneyError("rates add up to more than 100%")
    parts = [apply_bp(amount_fen, rate) for rate in rates_bp]
    return parts, amount_fen - sum(parts)
