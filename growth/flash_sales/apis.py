"""GET /api/v1/flash-sales/: the running and upcoming flash sales, for the mini-program's countdowns.

Public, like the course catalog: the price of a sale is no secret. Whether a given member still gets
the sale price (their per-member limit) is what `POST /api/v1/orders/` prices; this list says what is
on offer."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, Pagination, paginated
from growth.flash_sales import selectors


class FlashSaleListApi(APIView):
    """Running and upcoming sales, those ending soonest first, in two queries whatever the page holds.
    `left` is the units not held by pending orders nor sold; `server_time` lets a client's countdown
    run on the server's clock rather than the phone's."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FlashSale"

        id = serializers.IntegerField()
        name = serializers.CharField()
        item_type = serializers.CharField(help_text="membership, course, circle, event or camp")
        item_id = serializers.CharField(help_text="tier code for membership, else the integer id as text")
        item_title = serializers.CharField()
        list_price_fen = serializers.IntegerField(help_text="the item's list price when the sale was set")
        sale_price_fen = serializers.IntegerField()
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        running = serializers.BooleanField(help_text="started and not ended")
        stock = serializers.IntegerField()
        left = serializers.IntegerField()
        per_member_limit = serializers.IntegerField()
        server_time = serializers.DateTimeField()

    @extend_schema(
        operation_id="flash_sales_list",
        tags=["flash-sales"],
        summary="Running and upcoming flash sales (限时特价)",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(OutputSerializer, name="FlashSaleList")},
    )
    def get(self, request):
        now = timezone.now()
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.sales_listed(now=now), request, view=self)
        rows = [
            {
                "id": sale.pk,
                "name": sale.name,
                "item_type": sale.item_type,
                "item_id": sale.item_id,
                "item_title": sale.item_title,
                "list_price_fen": sale.list_price_fen,
                "sale_price_fen": sale.sale_price_fen,
                "starts_at": sale.starts_at,
                "ends_at": sale.ends_at,
                "running": sale.running_at(now),
                "stock": sale.stock,
                "left": sale.left,
                "per_member_limit": sale.per_member_limit,
                "server_time": now,
            }
            for sale in page or []
        ]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)
