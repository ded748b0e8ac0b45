"""The API's JSON parser: a size and depth limit that answers 400, and text cleaned at the door.

DRF's JSONParser hands the body to `json.load`: 100,000 nested `[` raised RecursionError (a 500), and
a body of any size was parsed. Here a body over `API_JSON_MAX_BYTES` or nested deeper than
`API_JSON_MAX_DEPTH` is a ParseError (400 `malformed_request` through core.errors), as is invalid
UTF-8; every string is passed through core.text.clean_text.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from core.text import clean_data


def _too_deep(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        max_bytes = int(getattr(settings, "API_JSON_MAX_BYTES", 1024 * 1024))
        raw = stream.read(max_bytes + 1) if stream is not None else b""
        if len(raw) > max_bytes:
            raise ParseError(_("请求内容过大"))
        if not raw:
            raise ParseError(_("请求内容不是有效的 JSON"))
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise ParseError(_("请求内容嵌套过深")) from None
        except (UnicodeDecodeError, ValueError):
            raise ParseError(_("请求内容不是有效的 JSON")) from None
        if _too_deep(data, int(getattr(settings, "API_JSON_MAX_DEPTH", 32))):
            raise ParseError(_("请求内容嵌套过深"))
        return clean_data(data)


def _clean_querydict(data: QueryDict) -> QueryDict:
    cleaned = data.copy()
    for key in list(cleaned.keys()):
        cleaned.setlist(key, [clean_data(v) for v in data.getlist(key)])
    return cleaned


class CleanMultiPartParser(MultiPartParser):
    """Multipart bodies (posts and check-ins with images): the same text cleaning on the form fields."""

    def parse(  # type: ignore[override]  # the stubs say immutable; the cleaned copy is a QueryDict
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles[QueryDict, Any]:
        result = super().parse(stream, media_type, parser_context)
        return DataAndFiles(_clean_querydict(result.data), result.files)


class CleanFormParser(FormParser):
    def parse(  # type: ignore[override]  # the stubs say immutable; a copy is mutable, and still a QueryDict
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> QueryDict:
        return _clean_querydict(super().parse(stream, media_type, parser_context))
