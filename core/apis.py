"""Core API views. Only the benchmark floor lives here: a constant JSON answer through the full stack."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

FLOOR_PAYLOAD = {
    "ok": True,
    "results": [{"id": i, "title": f"floor-{i}", "price_fen": 100 * i} for i in range(20)],
}


class BenchFloorApi(APIView):
    """The floor every API benchmark is compared to: the same middleware and DRF stack (authentication
    of a bearer token when one is sent, the default throttles, the JSON renderer), no work of its own.

    Mounted only when settings.BENCHMARK_ENDPOINTS is true (bench runs), never in the schema.
    """

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(FLOOR_PAYLOAD)
