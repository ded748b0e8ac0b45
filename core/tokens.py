"""Refresh tokens that answer 401, not 500, when their user is gone."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer


class SafeTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt 5.5 loads the token's user with `.get()`: a deleted account raised DoesNotExist."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return super().validate(attrs)
        except ObjectDoesNotExist:
            raise AuthenticationFailed(_("登录已失效，请重新登录"), code="user_not_found") from None
