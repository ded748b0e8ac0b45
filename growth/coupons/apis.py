"""/api/v1/coupons/: the caller's coupons (API.md row 11), claiming one by its link's token, and the
coupons usable for one item with the price each gives. Paying with one is row 10
(`POST /api/v1/orders/` with `coupon_code`)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, Pagination, error_responses, paginated
from core.text import IDENTIFIER
from growth.coupons import issuing, selectors
from growth.models import Coupon, MemberCoupon
from payments import items


class MemberCouponSerializer(serializers.Serializer):
    """One coupon the caller holds. `code` (or `id`) is what `POST /api/v1/orders/` takes as `coupon_code`."""

    class Meta:
        ref_name = "MemberCoupon"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Coupon.Kind.values)
    amount_off_fen = serializers.IntegerField(help_text="kind=amount: what it takes off")
    percent_off_bp = serializers.IntegerField(help_text="kind=percent: the share taken off, 2000 = 20 %")
    cap_fen = serializers.IntegerField(help_text="kind=percent: at most this much off; 0 = no cap")
    min_spend_fen = serializers.IntegerField(help_text="the price before the coupon must reach this")
    value_text = serializers.CharField(help_text="the face, e.g. ¥50 or 8折 最多减 ¥100")
    applies_to = serializers.CharField(help_text="what it is for, in words")
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=MemberCoupon.State.values)


def coupon_body(copy: MemberCoupon, now) -> dict:
    coupon = copy.coupon
    return {
        "id": copy.pk,
        "code": copy.code,
        "name": coupon.name,
        "kind": coupon.kind,
        "amount_off_fen": coupon.amount_off_fen,
        "percent_off_bp": coupon.percent_off_bp,
        "cap_fen": coupon.cap_fen,
        "min_spend_fen": coupon.min_spend_fen,
        "value_text": selectors.value_text(coupon),
        "applies_to": selectors.applies_to_text(coupon),
        "valid_from": copy.valid_from,
        "valid_until": copy.valid_until,
        "state": copy.state_at(now),
    }


class CouponsMineApi(APIView):
    """API.md row 11: the caller's coupons, usable first (soonest to expire first), then held by a
    pending order, used, expired, revoked."""

    @extend_schema(
        operation_id="coupons_mine",
        tags=["coupons"],
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(MemberCouponSerializer, name="MemberCouponList"), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.coupons_mine(request.user), request, view=self)
        now = timezone.now()
        return paginator.get_paginated_response(
            MemberCouponSerializer([coupon_body(copy, now) for copy in page or []], many=True).data
        )


class CouponClaimApi(APIView):
    """Claim a coupon through its link's token (the `<token>` of /growth/coupons/claim/<token>/).
    Refused: an unknown or closed link `coupon_invalid`, a coupon no longer given `coupon_expired`, the
    caller's or the total limit `coupon_exhausted`. Throttled (`coupon_code` rate)."""

    throttle_scope = "coupon_code"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponClaimInput"

        token = serializers.CharField(max_length=64)

    @extend_schema(
        operation_id="coupons_claim",
        tags=["coupons"],
        request=InputSerializer,
        responses={201: MemberCouponSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        copy = issuing.coupon_claim(user=request.user, token=data.validated_data["token"])
        body = MemberCouponSerializer(coupon_body(copy, timezone.now())).data
        return Response(body, status=status.HTTP_201_CREATED)


class UsableCouponSerializer(MemberCouponSerializer):
    class Meta:
        ref_name = "UsableCoupon"

    discount_fen = serializers.IntegerField(help_text="what it takes off this item for the caller now")
    amount_fen = serializers.IntegerField(help_text="what the order would cost with it")


class CouponsUsableApi(APIView):
    """The caller's coupons that apply to one item now, cheapest resulting price first, each with the
    discount and the price it gives (the same rules as `POST /api/v1/orders/` with `coupon_code`)."""

    class QuerySerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponsUsableQuery"

        item_type = serializers.CharField(max_length=32)
        item_id = serializers.RegexField(IDENTIFIER.pattern, max_length=64)
        referral_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="coupons_usable",
        tags=["coupons"],
        parameters=[
            OpenApiParameter("item_type", OpenApiTypes.STR, required=True, description="as in POST /orders/"),
            OpenApiParameter("item_id", OpenApiTypes.STR, required=True),
            OpenApiParameter("referral_code", OpenApiTypes.STR, description="priced as the order would be"),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: paginated(UsableCouponSerializer, name="UsableCouponList"),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        if items.get(values["item_type"]).integer_ids and not values["item_id"].isdigit():
            raise items.ItemUnavailable()  # as POST /api/v1/orders/ answers it
        usable = selectors.coupons_usable(
            user=request.user,
            item_type=values["item_type"],
            item_id=values["item_id"],
            referral_code=values["referral_code"],
        )
        paginator = Pagination()
        page: list[selectors.UsableCoupon] | None = paginator.paginate_queryset(usable, request, view=self)  # type: ignore[arg-type]
        now = timezone.now()
        rows = [
            {**coupon_body(u.copy, now), "discount_fen": u.discount_fen, "amount_fen": u.amount_fen}
            for u in page or []
        ]
        return paginator.get_paginated_response(UsableCouponSerializer(rows, many=True).data)
