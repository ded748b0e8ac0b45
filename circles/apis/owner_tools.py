"""/api/v1/circles/<id>/members/… and …/stats/ — what a circle's owner and admins see and do to
members: the member list, roles, removal (with or without a refund), rejoining, the circle's stats.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, AuthorSerializer
from circles.models import CircleMembership
from circles.selectors import access as access_selectors
from circles.selectors import members as member_selectors
from circles.selectors import stats as stats_selectors
from circles.services import owner_tools
from core.api import Pagination, error_responses, paginated


class MemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = AuthorSerializer()
    role = serializers.CharField()
    status = serializers.CharField()
    joined_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    via_tier = serializers.BooleanField()
    removed_with_refund = serializers.BooleanField()
    rejoin_allowed = serializers.BooleanField()


class MemberListApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Members by role and expiry — owners and admins",
        parameters=[
            OpenApiParameter("role", OpenApiTypes.STR, enum=list(CircleMembership.Role.values)),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(CircleMembership.Status.values)),
            OpenApiParameter("expiring", OpenApiTypes.BOOL, description="only members expiring soon"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(MemberOutputSerializer, name="CircleMemberList"),
            **error_responses(401, 404),
        },
    )
    def get(self, request, circle_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        if request.query_params.get("expiring") in ("1", "true", "True"):
            rows = member_selectors.expiring_soon(circle=circle)
        else:
            rows = member_selectors.members_for_managers(
                circle=circle,
                role=request.query_params.get("role", ""),
                status=request.query_params.get("status", ""),
            )
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(MemberOutputSerializer(page, many=True).data)


def _member_for(circle, membership_id):
    return get_object_or_404(CircleMembership.objects.select_related("user"), pk=membership_id, circle=circle)


class MemberRoleApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleMemberRoleInput"

        role = serializers.ChoiceField(choices=["admin", "guest", "member"])

    @extend_schema(
        tags=TAG,
        summary="Set a member's role (owner: promote to guest/admin)",
        request=InputSerializer,
        responses={200: MemberOutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = owner_tools.circle_member_set_role(
            circle=circle,
            membership=_member_for(circle, membership_id),
            role=data.validated_data["role"],
            actor=request.user,
        )
        return Response(MemberOutputSerializer(membership).data)


class MemberRemoveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleMemberRemoveInput"

        refund = serializers.BooleanField(default=False)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        tags=TAG,
        summary="Remove a member, with or without a refund",
        request=InputSerializer,
        responses={200: MemberOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = owner_tools.circle_member_remove(
            circle=circle,
            membership=_member_for(circle, membership_id),
            actor=request.user,
            **data.validated_data,
        )
        return Response(MemberOutputSerializer(membership).data)


class MemberAllowRejoinApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Allow a member removed with refund to rejoin (owner)",
        request=None,
        responses={200: MemberOutputSerializer, **error_responses(403, 404)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        membership = owner_tools.circle_member_allow_rejoin(
            circle=circle, membership=_member_for(circle, membership_id), actor=request.user
        )
        return Response(MemberOutputSerializer(membership).data)


class CircleStatsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleStatsOutput"

        members = serializers.IntegerField(help_text="paying members, trials and staff in the circle now")
        tier_members = serializers.IntegerField(help_text="members through their membership tier")
        trials = serializers.IntegerField()
        guests = serializers.IntegerField()
        joined = serializers.IntegerField(help_text="joins in the period")
        renewed = serializers.IntegerField(help_text="renewals in the period")
        base = serializers.IntegerField(help_text="paying members at the start of the period")
        churned = serializers.IntegerField(help_text="of base: left + removed + lapsed by the end")
        left = serializers.IntegerField()
        removed = serializers.IntegerField()
        lapsed = serializers.IntegerField(help_text="paid time ran out without renewing")
        churn_bp = serializers.IntegerField(help_text="退群率 = churned / base, basis points")
        posts = serializers.IntegerField()
        posts_per_day = serializers.FloatField()
        tips_count = serializers.IntegerField()
        tips_fen = serializers.IntegerField()
        days = serializers.IntegerField()

    @extend_schema(
        tags=TAG,
        summary="Circle stats (members, churn 退群率, posts/day, tips) — owners and admins",
        parameters=[OpenApiParameter("days", OpenApiTypes.INT)],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, circle_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        try:
            days = min(365, max(1, int(request.query_params.get("days", 30))))
        except ValueError:
            days = 30
        return Response(self.OutputSerializer(stats_selectors.circle_stats(circle=circle, days=days)).data)
