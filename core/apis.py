"""Core API views: the creator's brand (public, read-only) and the benchmark floor."""

from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import brand
from core.api import error_responses

FLOOR_PAYLOAD = {
    "ok": True,
    "results": [{"id": i, "title": f"floor-{i}", "price_fen": 100 * i} for i in range(20)],
}

# Clients may reuse an answer this long without asking; after that a conditional request (If-None-Match)
# costs a 304. Short, so a rename reaches the mini-program within minutes even without the version header.
BRAND_MAX_AGE_SECONDS = 300


def brand_etag(info: brand.BrandInfo) -> str:
    """The brand's version and the answer's language (default texts are translated)."""
    return f'"{info.version}-{get_language() or ""}"'


class BrandApi(APIView):
    """The creator's brand as the mini-program shows it: names, tagline, logo, the accessible shades of
    the brand colours and the share title. Read through `core.brand.current()` (no SQL once warm)."""

    permission_classes = [AllowAny]
    authentication_classes: list[
        type[BaseAuthentication]
    ] = []  # public: a stale or absent token never turns this into a 401

    class OutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "BrandOutput"

        version = serializers.CharField(help_text="changes with every save of the brand")
        site_name = serializers.CharField()
        short_name = serializers.CharField()
        tagline = serializers.CharField(allow_blank=True)
        description = serializers.CharField(allow_blank=True)
        logo_url = serializers.CharField(allow_blank=True, help_text="absolute URL, or empty")
        primary_color = serializers.CharField(help_text="#rrggbb, readable with white text on it (WCAG AA)")
        primary_dark = serializers.CharField(help_text="#rrggbb, for links and text on tinted backgrounds")
        accent_color = serializers.CharField(help_text="#rrggbb, readable on white")
        share_title = serializers.CharField()

    @extend_schema(
        tags=["brand"],
        summary="The creator's brand (public)",
        description="Cacheable: `ETag` (the brand version and language) answers `If-None-Match` with 304, "
        "and every /api/v1/ answer carries `X-Brand-Version`, so a client refetches only after a change.",
        responses={200: OutputSerializer, 304: None, **error_responses(429)},
    )
    def get(self, request: Request) -> Response:
        info = brand.current()
        etag = brand_etag(info)
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            response = Response(status=304)
        else:
            response = Response(
                self.OutputSerializer(brand.client_payload(info, absolute=request.build_absolute_uri)).data
            )
        response["ETag"] = etag
        patch_cache_control(response, public=True, max_age=BRAND_MAX_AGE_SECONDS)
        patch_vary_headers(response, ["Accept-Language"])
        return response


class BenchFloorApi(APIView):
    """The floor every API benchmark is compared to: the same middleware and DRF stack (authentication
    of a bearer token when one is sent, the default throttles, the JSON renderer), no work of its own.

    Mounted only when settings.BENCHMARK_ENDPOINTS is true (bench runs), never in the schema.
    """

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(FLOOR_PAYLOAD)
