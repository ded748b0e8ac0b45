"""Sessions the member controls: the mini-program's logout revokes its refresh token, and "log out
everywhere" ends every web session (allauth.usersessions) and every refresh token (simplejwt's
blacklist app, which rotation already uses)."""

from __future__ import annotations

from typing import Any

from allauth.usersessions.internal.flows.sessions import end_sessions
from allauth.usersessions.models import UserSession
from django.contrib.auth import logout
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from core.errors import ApplicationError


def refresh_token_revoke(*, user: Any, token: str) -> None:
    """Blacklist one refresh token of `user` (idempotent; someone else's token is refused as invalid)."""
    try:
        refresh = RefreshToken(token, verify=True)  # type: ignore[arg-type]  # the stubs omit the encoded form
    except TokenError:
        # Already blacklisted or expired: nothing left to revoke, logout still succeeds.
        return
    if str(refresh.payload.get("user_id")) != str(user.pk):
        raise ApplicationError("invalid", _("登录凭证无效"), fields={"refresh": [_("登录凭证无效")]})
    refresh.blacklist()


def refresh_tokens_revoke_all(*, user: Any) -> int:
    """Blacklist every refresh token issued to `user` that is not blacklisted yet; returns how many."""
    outstanding = OutstandingToken.objects.filter(user_id=user.pk, blacklistedtoken__isnull=True)
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)
    return len(tokens)


def log_out_everywhere(request: HttpRequest, *, user: Any) -> None:
    """End every web session of `user` (this one included) and every mini-program refresh token."""
    refresh_tokens_revoke_all(user=user)
    end_sessions(request, list(UserSession.objects.filter(user_id=user.pk)))
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        logout(request)
