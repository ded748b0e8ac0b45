"""Building blocks of the dashboard: tables (rendered, charted and exported from one object), KPIs,
and the few SQL helpers that differ between PostgreSQL and SQLite (the embedded demo database).

Every number is computed by the database (GROUP BY, conditional SUM/COUNT, window functions);
Python only reshapes the aggregated rows (one per bucket, item type, channel, course …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Column kinds: how a value is rendered, charted and exported.
TEXT, INT, FEN, RATE, SECONDS = "text", "int", "fen", "rate", "seconds"


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: str = INT


@dataclass(frozen=True)
class Chart:
    """How to draw a table: `label_key` gives the x axis, `series` the columns drawn as datasets."""

    type: str  # "bar" | "line" | "doughnut"
    label_key: str
    series: tuple[str, ...]
    horizontal: bool = False
    stacked: bool = False

    def payload(self, table: Table) -> dict[str, Any]:
        kinds = {c.key: c.kind for c in table.columns}
        labels = {c.key: c.label for c in table.columns}
        unit = kinds[self.series[0]]
        return {
            "type": self.type,
            "horizontal": self.horizontal,
            "stacked": self.stacked,
            "unit": unit,
            "labels": [str(row.get(self.label_key, "")) for row in table.rows],
            "datasets": [
                {
                    "label": str(labels[key]),
                    "data": [chart_value(row.get(key), kinds[key]) for row in table.rows],
                }
                for key in self.series
            ],
        }


def chart_value(value, kind: str):
    if value is None:
        return None
    if kind == FEN:
        return round(value / 100, 2)
    if kind == RATE:
        return round(value * 100, 2)
    if kind == SECONDS:
        return round(value / 3600, 2)  # hours read better on an axis
    return value


@dataclass
class Table:
    key: str
    title: StrOrPromise
    definition: StrOrPromise
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: Chart | None = None
    note: StrOrPromise = ""

    def chart_payload(self) -> dict[str, Any] | None:
        if self.chart is None or not self.rows:
            return None
        return self.chart.payload(self)

    def cells(self) -> list[list[tuple[str, Any]]]:
        """Rows as [(kind, value)] in column order, for the template."""
        return [[(c.kind, row.get(c.key)) for c in self.columns] for row in self.rows]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: StrOrPromise
    kind: str
    value: Any
    previous: Any
    definition: StrOrPromise
    snapshot: bool = False  # a state "as of now": no previous period

    @property
    def change(self) -> float | None:
        """Relative change for amounts and counts, or the difference in points for rates."""
        if self.snapshot or self.value is None or self.previous is None:
            return None
        if self.kind == RATE:
            return self.value - self.previous
        if not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": str(self.label),
            "kind": self.kind,
            "value": self.value,
            "previous": self.previous,
            "definition": str(self.definition),
            "snapshot": self.snapshot,
        }


@dataclass
class Section:
    key: str
    title: StrOrPromise
    intro: StrOrPromise
    tables: list[Table] = field(default_factory=list)


def rate(numerator, denominator) -> float | None:
    if not denominator:
        return None
    return (numerator or 0) / denominator


# ---- SQL that differs between PostgreSQL and SQLite ---------------------------------------------------------


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def dt_param(value: datetime):
    """An aware datetime as the backend stores it (SQLite keeps UTC text), for raw SQL parameters."""
    return connection.ops.adapt_datetimefield_value(value)


def date_param(value: date):
    return connection.ops.adapt_datefield_value(value)


def seconds_between_sql(later: str, earlier: str) -> str:
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def days_since_sql(day_param: str, column: str) -> str:
    """Whole days from `column` (a DATE) to the date parameter."""
    if is_postgres():
        return f"(CAST({day_param} AS date) - {column})"
    return f"CAST(julianday({day_param}) - julianday({column}) AS INTEGER)"


def _plain(value):
    """PostgreSQL sums integers as NUMERIC: give whole numbers back as int, the rest as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def fetch(sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    """Run an aggregate statement; rows as dicts of plain Python numbers (JSON-safe)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def table_name(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
