"""Text at the door: one normalisation for everything people type, and ASCII-only identifiers.

`clean_text` is applied to every string of every JSON body (core/parsers.py) and every form field
of every form post (core.middleware.RequestGuardMiddleware), so nicknames, posts, comments, questions
and check-ins all get it without each form remembering to:

- Unicode NFC, so "é" typed two ways is one string (search, uniqueness, length limits agree);
- zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM) and bidirectional controls (LRE, RLE,
  PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM) removed: invisible in the UI, they forge
  look-alike nicknames and reverse the text around them ("‮gpj.exe");
- NUL and the other C0 controls except tab and newlines removed (PostgreSQL refuses NUL in text).

Identifiers (`item_id`, ids in query strings) are ASCII letters, digits, `_` and `-` only: Python's
`int()` and `str.isdigit()` accept "١٢٣" (Arabic-Indic digits) as 123.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_INVISIBLE = re.compile(
    "["
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"  # C0 controls except \t \n \r, and DEL
    "\u061c"  # Arabic letter mark
    "\u200b-\u200f"  # zero-width space/non-joiner/joiner, LRM, RLM
    "\u202a-\u202e"  # LRE RLE PDF LRO RLO
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # LRI RLI FSI PDI
    "\ufeff"  # BOM / zero-width no-break space
    "]"
)
IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def clean_text(value: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", value))


def clean_data(value: Any, *, depth: int = 0) -> Any:
    """`clean_text` on every string inside parsed JSON (keys included)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    return value


def is_identifier(value: str) -> bool:
    return bool(IDENTIFIER.match(value))


def has_invisible(value: str) -> bool:
    """NUL, control, zero-width or bidi characters anywhere in `value`."""
    return bool(_INVISIBLE.search(value))
