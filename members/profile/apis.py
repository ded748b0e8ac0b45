"""/api/v1 "me" (API.md row 2): who am I, nickname and avatar, the profile and self-introduction.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from members.profile import selectors, services


class MembershipBriefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipBrief"

    tier = serializers.CharField(source="tier_code")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class MeApi(APIView):
    """Row 2: who am I. `membership` is null without an active membership."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Me"

        id = serializers.IntegerField()
        nickname = serializers.CharField()
        member_no = serializers.CharField(allow_null=True)
        membership = MembershipBriefSerializer(allow_null=True)
        referral_code = serializers.CharField()
        phone = serializers.CharField(source="masked_phone", help_text="masked: 138****5678")
        avatar_url = serializers.CharField()
        points_balance = serializers.IntegerField()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MeUpdate"

        nickname = serializers.CharField(max_length=64, required=False)
        avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    @extend_schema(
        operation_id="me_retrieve", tags=["me"], responses={200: OutputSerializer, **error_responses(401)}
    )
    def get(self, request):
        return Response(self._output(request.user))

    @extend_schema(
        operation_id="me_update",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.me_update(user=request.user, **data.validated_data)
        return Response(self._output(request.user))

    def _output(self, user) -> dict:
        membership, points = selectors.membership_and_points(user)
        return self.OutputSerializer(
            {
                "id": user.pk,
                "nickname": user.nickname,
                "member_no": user.member_no,
                "membership": membership,
                "referral_code": user.referral_code,
                "masked_phone": user.masked_phone,
                "avatar_url": user.avatar_url,
                "points_balance": points,
            }
        ).data


class ProfileApi(APIView):
    """Profile and self-introduction (自我介绍). `use_house_nickname` sets the nickname to 编号-姓名-城市-行业."""

    class ProfileSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MemberProfile"

        real_name = serializers.CharField(max_length=20, allow_blank=True)
        city = serializers.CharField(max_length=20, allow_blank=True)
        industry = serializers.CharField(max_length=20, allow_blank=True)
        company = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
        self_introduction = serializers.CharField(
            max_length=1000, allow_blank=True, required=False, default=""
        )

    class InputSerializer(ProfileSerializer):
        class Meta:
            ref_name = "MemberProfileInput"

        use_house_nickname = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(ProfileSerializer):
        class Meta:
            ref_name = "MemberProfileOutput"

        nickname = serializers.CharField()
        suggested_nickname = serializers.CharField()

    def _output(self, user):
        profile = selectors.profile_for_user(user)
        return self.OutputSerializer(
            {
                "real_name": profile.real_name,
                "city": profile.city,
                "industry": profile.industry,
                "company": profile.company,
                "self_introduction": profile.self_introduction,
                "nickname": user.nickname,
                "suggested_nickname": selectors.house_nickname(
                    user=user, real_name=profile.real_name, city=profile.city, industry=profile.industry
                ),
            }
        ).data

    @extend_schema(
        operation_id="profile_retrieve",
        tags=["me"],
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(self._output(request.user))

    @extend_schema(
        operation_id="profile_update",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.profile_update(user=request.user, **data.validated_data)
        return Response(self._output(request.user))
