"""Shared DRF pieces: pagination and the error-response schema used in OpenAPI docs."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


# The query parameters `Pagination` reads, for the `parameters=` of a paginated list's `@extend_schema`.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="1-based page number"),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"{Pagination.page_size} by default, at most {Pagination.max_page_size}",
    ),
]


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(required=False),
    },
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Document the error shape for the given statuses on an operation (`@extend_schema(responses=...)`)."""
    return {code: OpenApiResponse(ErrorSerializer) for code in statuses}


def _error_response_ref() -> dict[str, Any]:
    return {
        "description": "Error: {code, message, fields}",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_common_errors(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the errors the stack can give.

    Views document their business errors with `error_responses(...)`; this adds the ones every view
    shares (validation, authentication, hidden objects, throttling) so schema-conformance checks and
    the mini-program team see every status an operation may answer.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {}},
            },
            "required": ["code", "message"],
        },
    )
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = {"429"}
            if operation.get("requestBody") or operation.get("parameters"):
                statuses.add("400")
            if {} not in operation.get("security", [{}]):
                statuses |= {"401", "403"}
            if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
                statuses.add("404")  # a hidden object, or a page number past the end of a list
            for status_code in sorted(statuses):
                operation["responses"].setdefault(status_code, _error_response_ref())
    return result


def paginated(item_serializer: Any, *, name: str) -> Any:
    """Schema of a paginated list answer ({count, next, previous, results}) for `@extend_schema`.

    `get_paginated_response` returns this shape; documenting the bare `many=True` list instead would
    make the schema lie about every list endpoint.
    """
    return inline_serializer(
        name=f"Paginated{name}",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )
