"""/api/v1 memberships (API.md row 3): tiers on sale, what buying a tier costs now (start, renew,
upgrade), the caller's membership with its offers and one membership's history.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from members.memberships import selectors, upgrades
from payments import items


class TiersApi(APIView):
    """Row 3: the tiers on sale, lowest rank first (not paginated)."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipTierItem"

        code = serializers.CharField()
        name = serializers.CharField()
        price_fen = serializers.IntegerField()
        duration_days = serializers.IntegerField()
        benefits = serializers.ListField(child=serializers.CharField(), source="benefit_list")
        rank = serializers.IntegerField()
        single_purchase_discount_bp = serializers.IntegerField()

    @extend_schema(
        operation_id="membership_tiers_list",
        tags=["membership"],
        responses={200: OutputSerializer(many=True)},
        auth=[],
    )
    def get(self, request):
        return Response(self.OutputSerializer(selectors.tiers_for_sale(), many=True).data)


class QuoteLineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipQuoteLine"

    label = serializers.CharField()  # type: ignore[assignment]  # the API field name
    amount_fen = serializers.IntegerField()


class MembershipQuoteApi(APIView):
    """What buying a tier costs the caller now: `start`, `renew` (from the current end) or `upgrade`
    (price minus the unused part of the current membership). Buying a lower tier while a higher one
    is active is `400 lower_tier_active`."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipQuote"

        tier = serializers.CharField()
        kind = serializers.CharField(help_text="start | renew | upgrade")
        title = serializers.CharField()
        list_price_fen = serializers.IntegerField()
        amount_fen = serializers.IntegerField()
        credit_fen = serializers.IntegerField()
        unused_days = serializers.IntegerField()
        lines = QuoteLineSerializer(many=True)

    @extend_schema(
        operation_id="membership_quote",
        tags=["membership"],
        parameters=[OpenApiParameter("tier", str, required=True, description="tier code, e.g. KA")],
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        code = (request.query_params.get("tier") or "").strip()
        if not code:
            raise ApplicationError("invalid", _("请指定会员等级"), fields={"tier": [_("必填")]})
        quote = items.quote(user=request.user, item_type="membership", item_id=code)
        return Response(
            self.OutputSerializer(
                {
                    "tier": quote.context["tier"],
                    "kind": quote.context["kind"],
                    "title": quote.title,
                    "list_price_fen": quote.list_price_fen,
                    "amount_fen": quote.amount_fen,
                    "credit_fen": quote.context.get("credit_fen", 0),
                    "unused_days": quote.context.get("unused_days", 0),
                    "lines": quote.lines,
                }
            ).data
        )


class GrantSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipGrant"

    kind = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the API field name
    tier = serializers.CharField(source="tier.code")
    days = serializers.IntegerField()
    credit_fen = serializers.IntegerField()
    order_no = serializers.CharField(source="order.order_no", allow_null=True, default=None)
    ends_after = serializers.DateTimeField()
    revoked = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_revoked(self, grant) -> bool:
        return grant.revoked_at is not None


class MembershipDetailApi(APIView):
    """One of the caller's memberships with its history (404 for anyone else's id)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipDetail"

        id = serializers.IntegerField()
        tier = serializers.CharField(source="tier.code")
        tier_name = serializers.CharField(source="tier.name")
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        active = serializers.BooleanField()
        days_left = serializers.IntegerField()
        member_no = serializers.CharField(source="user.member_no", allow_null=True)
        grants = GrantSerializer(many=True, source="grants_list")

    @extend_schema(
        operation_id="memberships_retrieve",
        tags=["membership"],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, membership_id: int):
        membership = selectors.membership_get_for_user(user=request.user, membership_id=membership_id)
        if membership is None:
            raise NotFound()
        detail = {
            "id": membership.pk,
            "tier": membership.tier,
            "user": membership.user,
            "starts_at": membership.starts_at,
            "ends_at": membership.ends_at,
            "active": membership.starts_at <= timezone.now() < membership.ends_at,
            "days_left": selectors.days_left(membership),
            "grants_list": list(selectors.membership_grants(membership)),
        }
        return Response(self.OutputSerializer(detail).data)


class MyMembershipApi(APIView):
    """The caller's membership (active or expired) with days left, and the renew/upgrade offers."""

    class OfferSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipOffer"

        tier = serializers.CharField()
        tier_name = serializers.CharField()
        kind = serializers.CharField(help_text="start | renew | upgrade")
        amount_fen = serializers.IntegerField()
        credit_fen = serializers.IntegerField()
        unused_days = serializers.IntegerField()

    class RowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MyMembershipRow"

        id = serializers.IntegerField()
        tier = serializers.CharField()
        tier_name = serializers.CharField()
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        active = serializers.BooleanField()
        days_left = serializers.IntegerField()

    @extend_schema(
        operation_id="membership_mine",
        tags=["membership"],
        responses={
            200: inline_serializer(
                name="MyMembershipOut",
                fields={
                    "membership": RowSerializer(allow_null=True),
                    "member_no": serializers.CharField(allow_null=True),
                    "offers": OfferSerializer(many=True),
                },
            ),
            **error_responses(401),
        },
    )
    def get(self, request):
        membership = selectors.membership_for_user(request.user)
        row = None
        if membership is not None:
            row = self.RowSerializer(
                {
                    "id": membership.pk,
                    "tier": membership.tier.code,
                    "tier_name": membership.tier.name,
                    "starts_at": membership.starts_at,
                    "ends_at": membership.ends_at,
                    "active": membership.starts_at <= timezone.now() < membership.ends_at,
                    "days_left": selectors.days_left(membership),
                }
            ).data
        offers = [
            {
                "tier": offer.tier.code,
                "tier_name": offer.tier.name,
                "kind": offer.kind,
                "amount_fen": offer.amount_fen,
                "credit_fen": offer.credit_fen,
                "unused_days": offer.unused_days,
            }
            for offer in upgrades.membership_offers(request.user)
        ]
        return Response(
            {
                "membership": row,
                "member_no": request.user.member_no,
                "offers": self.OfferSerializer(offers, many=True).data,
            }
        )
