"""/api/v1 sign-in (API.md row 1): mini-program login, token refresh, logout, phone binding.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenRefreshView

from core.api import error_responses
from core.sessions import log_out_everywhere, refresh_token_revoke
from core.tokens import SafeTokenRefreshSerializer
from members.auth import services


class LoginUserSerializer(serializers.Serializer):
    class Meta:
        ref_name = "LoginUser"

    id = serializers.IntegerField()
    nickname = serializers.CharField()
    member_no = serializers.CharField(allow_null=True)


class MiniProgramLoginApi(APIView):
    """Row 1: `wx.login` code → JWT pair. Invalid codes, WeChat errors and timeouts give
    `400 wechat_login_failed`. `referral_code` binds a *new* user's referrer once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MiniProgramLoginInput"

        code = serializers.CharField(max_length=128)
        referral_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MiniProgramLogin"

        access = serializers.CharField()
        refresh = serializers.CharField()
        user = LoginUserSerializer()

    @extend_schema(
        operation_id="auth_wechat_miniprogram",
        tags=["auth"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 403, 429)},
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise services.WeChatLoginFailed(_("登录凭证无效"))
        user, _created = services.miniprogram_login(
            code=data.validated_data["code"], referral_code=data.validated_data["referral_code"]
        )
        return Response(self.OutputSerializer({**services.jwt_pair(user), "user": user}).data)


class TokenRefreshApi(TokenRefreshView):
    """Trade a refresh token for a new pair (the old refresh token is blacklisted: rotation)."""

    serializer_class = SafeTokenRefreshSerializer  # a deleted user's token: 401, not 500

    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        responses={200: TokenRefreshSerializer, **error_responses(400, 401)},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Log out in the mini-program: its refresh token is revoked (blacklisted), so the session ends now,
    not when the token's 30 days run out. `everywhere: true` also revokes every other refresh token and
    ends every web session of the member."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LogoutInput"

        refresh = serializers.CharField(max_length=2048)
        everywhere = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="auth_logout",
        tags=["auth"],
        request=InputSerializer,
        responses={204: None, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refresh_token_revoke(user=request.user, token=data.validated_data["refresh"])
        if data.validated_data["everywhere"]:
            log_out_everywhere(request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhoneBindApi(APIView):
    """Bind the member's phone from a `getPhoneNumber` button code (encrypted at rest)."""

    throttle_scope = "sms"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PhoneBindInput"

        code = serializers.CharField(max_length=128)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PhoneBound"

        phone = serializers.CharField(help_text="masked")
        phone_verified = serializers.BooleanField()

    @extend_schema(
        operation_id="me_phone_bind",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.miniprogram_phone_bind(user=request.user, code=data.validated_data["code"])
        return Response({"phone": user.masked_phone, "phone_verified": user.phone_verified})
