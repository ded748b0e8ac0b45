"""Whatever an operator types into the period picker or an export link gives a period or a readable refusal."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.periods import MAX_DAYS, Period, PeriodError, parse_period

TODAY = date(2026, 11, 23)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
text = st.one_of(st.none(), dates, st.text(max_size=12), st.from_regex(r"-?\d{1,25}d", fullmatch=True))


@settings(max_examples=400, deadline=None)
@given(start=text, end=text, preset=text)
def test_any_input_gives_a_usable_period_or_a_period_error(start, end, preset):
    params = {k: v for k, v in (("start", start), ("end", end), ("range", preset)) if v is not None}
    try:
        period = parse_period(params, today=TODAY)
    except PeriodError as exc:
        assert str(exc)  # a message the page shows
        return
    assert isinstance(period, Period)
    assert period.start <= period.end <= TODAY
    assert 1 <= period.days <= MAX_DAYS
    # Everything the dashboard computes from a period works for it.
    previous = period.previous()
    assert previous.days == period.days and previous.end < period.start
    assert period.start_at < period.end_at and previous.start_at < period.start_at
    assert period.buckets() and period.label()
