"""DRF's throttles keyed on the client address from core.ip (not on a forgeable X-Forwarded-For).

DRF's own `get_ident` trusts the whole `X-Forwarded-For` header when NUM_PROXIES is unset, so a
rotating header gave every request a fresh bucket. Subclasses keep `isinstance` checks working.
When Redis is down the cache fails open (core/cache.py) and so do these throttles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from rest_framework import throttling
from rest_framework.exceptions import ValidationError

from core.ip import client_ip

if TYPE_CHECKING:  # cycle: DRF's views module imports these throttles through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _ClientIpIdent:
    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class AnonRateThrottle(_ClientIpIdent, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_ClientIpIdent, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_ClientIpIdent, throttling.ScopedRateThrottle):
    pass


class QueryGuard(throttling.BaseThrottle):
    """Not a rate: answers 400 for a query parameter core.middleware.RequestGuardMiddleware found bad.

    It sits among the throttles because DRF checks those after authentication and permissions, so a
    protected operation still answers 401/403 first, whatever its query string holds."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = getattr(request._request, "_zhiquan_bad_query", None)
        if key is not None:
            raise ValidationError({key: [_("请求参数无效")]})
        return True
