"""Money helpers: no fen is created or lost, rounding is floor, display is right."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    MoneyError,
    apply_bp,
    fen_to_yuan_text,
    prorate,
    split_by_bp,
    yuan_to_fen,
)

amounts = st.integers(min_value=0, max_value=10**12)


@given(amounts, st.lists(st.integers(min_value=0, max_value=2500), max_size=4))
def test_split_never_creates_or_loses_a_fen(amount_fen, rates):
    parts, remainder = split_by_bp(amount_fen, rates)
    assert sum(parts) + remainder == amount_fen
    assert all(part >= 0 for part in parts) and remainder >= 0
    for part, rate in zip(parts, rates, strict=True):
        assert part * 10_000 <= amount_fen * rate < (part + 1) * 10_000


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_apply_bp_is_floor(amount_fen, rate_bp):
    result = apply_bp(amount_fen, rate_bp)
    assert 0 <= result <= amount_fen
    assert result == (amount_fen * rate_bp) // 10_000


@given(amounts, st.integers(min_value=1, max_value=3650), st.integers(min_value=0, max_value=3650))
def test_prorate_is_floor_and_bounded(amount_fen, denominator, numerator):
    value = prorate(amount_fen, numerator, denominator)
    assert 0 <= value <= amount_fen


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_yuan_text_round_trips(amount_fen):
    text = fen_to_yuan_text(amount_fen, always_decimals=True)
    assert yuan_to_fen(text.replace("-", "").replace("¥", "")) == abs(amount_fen)


def test_display():
    assert fen_to_yuan_text(360000) == "¥3,600"
    assert fen_to_yuan_text(12_000_000) == "¥120,000"
    assert fen_to_yuan_text(12345) == "¥123.45"
    assert fen_to_yuan_text(-50) == "-¥0.50"


def test_bad_input_is_refused():
    with pytest.raises(MoneyError):
        yuan_to_fen("1.234")
    with pytest.raises(MoneyError):
        yuan_to_fen("abc")
    with pytest.raises(MoneyError):
        split_by_bp(100, [6000, 6000])
    with pytest.raises(MoneyError):
        apply_bp(-1, 100)
