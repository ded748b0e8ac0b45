"""Password guessing is slow: failed logins are counted per account and per address in PostgreSQL.

Covers every password login — Django admin, allauth's web login (phone, email or user name) and
anything else that calls `django.contrib.auth.authenticate` — through one authentication backend
listed first (`LockoutBackend`): while a typed account name or the client address is over its limit
it refuses before any password is checked, so the right password is refused too. Failures are
recorded from Django's `user_login_failed` signal; a successful login clears the account's count.

The account key is what was typed, normalised and hashed, whether or not such an account exists, so
a locked name tells nothing about existence, and the message ("too many attempts, try again later")
is the same for every name. Limits: `LOGIN_LOCKOUT_ACCOUNT` failures per account and
`LOGIN_LOCKOUT_IP` per address within `LOGIN_LOCKOUT_SECONDS` (fixed windows; the current and the
previous one are summed, so a lock lasts between one and two windows). Being in the database, the
lock holds while Redis is down (core/cache.py lets the cache-based throttles fail open).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core import counters
from core.ip import client_ip

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm

LOCKED_MESSAGE = _("尝试次数过多，请稍后再试")
_IDENTIFIER_FIELDS = ("username", "email", "phone", "login")


def _limits() -> tuple[int, int, int]:
    return (
        int(getattr(settings, "LOGIN_LOCKOUT_ACCOUNT", 5)),
        int(getattr(settings, "LOGIN_LOCKOUT_IP", 30)),
        int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900)),
    )


def _identifier(credentials: dict[str, Any]) -> str:
    for field in _IDENTIFIER_FIELDS:
        value = credentials.get(field)
        if value:
            text = str(value).strip().lower()
            digits = "".join(ch for ch in text if ch.isdigit())
            if text.lstrip("+").replace(" ", "").replace("-", "").isdigit() and len(digits) >= 11:
                text = digits[-11:]  # 138…, +86 138…, 86-138… are one account
            return text
    return ""


def _keys(request: HttpRequest | None, identifier: str) -> tuple[str | None, str | None]:
    account = "login:acct:" + hashlib.sha256(identifier.encode()).hexdigest()[:40] if identifier else None
    ip = client_ip(request) if request is not None else ""
    return account, ("login:ip:" + ip if ip else None)


def is_locked(request: HttpRequest | None, credentials: dict[str, Any]) -> bool:
    account_limit, ip_limit, seconds = _limits()
    account, ip = _keys(request, _identifier(credentials))
    keys = [k for k in (account, ip) if k]
    if not keys:
        return False
    counts = counters.recent(keys, seconds=seconds)
    return bool((account and counts[account] >= account_limit) or (ip and counts[ip] >= ip_limit))


def record_failure(request: HttpRequest | None, credentials: dict[str, Any]) -> None:
    _account_limit, _ip_limit, seconds = _limits()
    for key in _keys(request, _identifier(credentials)):
        if key:
            counters.bump(key, seconds=seconds)


class LockoutBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: refuses (PermissionDenied stops Django's backend loop) while
    the account or the address is locked; otherwise lets the real backends decide. It loads users
    like ModelBackend because Django's `login()` without a backend, and test clients' `force_login`,
    record the first backend in the session."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:  # type: ignore[override]  # refuses or passes, never a user
        if is_locked(request, credentials):
            if request is not None:
                request._zhiquan_login_locked = True  # type: ignore[attr-defined]  # read by the admin login form
            raise PermissionDenied(LOCKED_MESSAGE)
        return None


@receiver(user_login_failed, dispatch_uid="core.lockout.failed")
def _on_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record_failure(request, credentials)


@receiver(user_logged_in, dispatch_uid="core.lockout.succeeded")
def _on_logged_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    for field in _IDENTIFIER_FIELDS:
        value = getattr(user, field, "") if field != "login" else ""
        if value:
            account, _ip = _keys(None, _identifier({field: value}))
            if account:
                counters.clear(account)


def admin_login_form() -> type[AuthenticationForm]:
    """Django admin's login form, saying "locked" (for any name alike) instead of "wrong password"."""
    # Imported here, not at the top: settings import this module (AUTHENTICATION_BACKENDS) before the
    # app registry is ready, and admin's forms load the user model.
    from django.contrib.admin.forms import AdminAuthenticationForm
    from django.core.exceptions import ValidationError

    class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
        def clean(self) -> dict[str, Any]:
            try:
                return super().clean()
            except ValidationError:
                if getattr(self.request, "_zhiquan_login_locked", False):
                    raise ValidationError(LOCKED_MESSAGE, code="locked") from None
                raise

    return LockoutAdminAuthenticationForm
