"""/api/v1/referrals/group-buys/…: group-buy offers, opening and joining a group, a group's progress and
my places (pay a place with POST /api/v1/orders/, item type `group_buy`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from referrals import group_buys, selectors
from referrals.models import GroupBuy, GroupBuyMember

GROUP_TAG = ["group-buys"]


def _checkout_url(item_type: str, item_id) -> str:
    return f"{settings.SITE_URL}{reverse('payments:checkout')}?{urlencode({'item_type': item_type, 'item_id': item_id})}"


class _OfferSerializer(serializers.Serializer):
    class Meta:
        ref_name = "GroupBuyOffer"

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    item_type = serializers.CharField()
    item_id = serializers.CharField()
    group_size = serializers.IntegerField()
    group_price_fen = serializers.IntegerField()
    time_limit_hours = serializers.IntegerField()
    ends_at = serializers.DateTimeField(allow_null=True)


class _GroupSerializer(serializers.Serializer):
    class Meta:
        ref_name = "GroupBuy"

    id = serializers.IntegerField()
    offer_id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=GroupBuy.Status.values)
    size = serializers.IntegerField()
    paid_count = serializers.IntegerField()
    places_left = serializers.IntegerField()
    price_fen = serializers.IntegerField()
    initiator = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    seconds_left = serializers.IntegerField()
    share_path = serializers.CharField()


def _group_row(group: GroupBuy) -> dict:
    now = timezone.now()
    left = int((group.expires_at - now).total_seconds()) if group.expires_at else 0
    return {
        "id": group.pk,
        "offer_id": group.offer_id,
        "title": group.offer.title,
        "status": group.status,
        "size": group.size,
        "paid_count": group.paid_count,
        "places_left": group.places_left,
        "price_fen": group.price_fen,
        "initiator": selectors.mask_name(group.initiator.display_name),
        "expires_at": group.expires_at,
        "seconds_left": max(0, left) if group.status == GroupBuy.Status.FORMING else 0,
        "share_path": reverse("referrals:group_buy", args=[group.pk]),
    }


class _SeatSerializer(serializers.Serializer):
    class Meta:
        ref_name = "GroupBuySeat"

    seat_id = serializers.IntegerField()
    group_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=GroupBuyMember.Status.values)
    is_initiator = serializers.BooleanField()
    item_type = serializers.CharField(help_text='"group_buy": pay with POST /api/v1/orders/')
    item_id = serializers.CharField()
    amount_fen = serializers.IntegerField()
    reserved_until = serializers.DateTimeField()
    checkout_url = serializers.CharField()


def _seat_row(seat: GroupBuyMember) -> dict:
    return {
        "seat_id": seat.pk,
        "group_id": seat.group_id,
        "status": seat.status,
        "is_initiator": seat.is_initiator,
        "item_type": group_buys.ITEM_TYPE,
        "item_id": str(seat.pk),
        "amount_fen": seat.group.price_fen,
        "reserved_until": seat.reserved_until,
        "checkout_url": _checkout_url(group_buys.ITEM_TYPE, seat.pk),
    }


class GroupBuyOffersApi(APIView):
    """Group-buy offers on sale now."""

    permission_classes = [AllowAny]

    @extend_schema(tags=GROUP_TAG, summary="Group-buy offers", responses={200: _OfferSerializer(many=True)})
    def get(self, request):
        return Response(_OfferSerializer(list(selectors.offers_listed()[:50]), many=True).data)


class GroupBuyOfferDetailApi(APIView):
    """One offer and the groups a visitor can join right now."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupBuyOfferDetail"

        offer = _OfferSerializer()
        open_groups = _GroupSerializer(many=True)

    @extend_schema(
        tags=GROUP_TAG, summary="Group-buy offer", responses={200: OutputSerializer, **error_responses(404)}
    )
    def get(self, request, offer_id: int):
        offer = selectors.offer_get(offer_id)
        groups = selectors.open_groups_of_offer(offer)
        for group in groups:
            group.offer = offer  # one offer for all: no query per group
        rows = [_group_row(group) for group in groups]
        return Response(self.OutputSerializer({"offer": offer, "open_groups": rows}).data)


class GroupBuyOpenApi(APIView):
    """Open a group: reserves the initiator's place. Pay it with POST /api/v1/orders/ (item_type group_buy)."""

    @extend_schema(
        tags=GROUP_TAG,
        summary="Open a group",
        request=None,
        responses={201: _SeatSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request, offer_id: int):
        offer = selectors.offer_get(offer_id)
        seat = group_buys.group_buy_open(user=request.user, offer=offer)
        return Response(_SeatSerializer(_seat_row(seat)).data, status=status.HTTP_201_CREATED)


class GroupBuyDetailApi(APIView):
    """A group's progress (anyone with the link)."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=GROUP_TAG, summary="Group progress", responses={200: _GroupSerializer, **error_responses(404)}
    )
    def get(self, request, group_id: int):
        return Response(_GroupSerializer(_group_row(selectors.group_get(group_id))).data)


class GroupBuyJoinApi(APIView):
    """Reserve a place in a forming group (`group_full` / `group_expired` / `group_not_open` when refused)."""

    @extend_schema(
        tags=GROUP_TAG,
        summary="Join a group",
        request=None,
        responses={201: _SeatSerializer, **error_responses(401, 404, 409)},
    )
    def post(self, request, group_id: int):
        group = selectors.group_get(group_id)
        seat = group_buys.group_buy_join(user=request.user, group_id=group.pk)
        seat.group = group
        return Response(_SeatSerializer(_seat_row(seat)).data, status=status.HTTP_201_CREATED)


class MyGroupBuysApi(APIView):
    """My places in groups, newest first."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MyGroupBuySeat"

        seat = _SeatSerializer()
        group = _GroupSerializer()

    @extend_schema(
        tags=GROUP_TAG,
        summary="My group buys",
        responses={200: paginated(OutputSerializer, name="MyGroupBuyList"), **error_responses(401)},
    )
    def get(self, request):
        paginator = Pagination()
        qs = selectors.seats_of(request.user).select_related("group__offer", "group__initiator")
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = [{"seat": _seat_row(seat), "group": _group_row(seat.group)} for seat in page]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)
