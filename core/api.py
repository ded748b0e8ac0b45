"""Shared DRF pieces: pagination and the error-response schema used in OpenAPI docs."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


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
