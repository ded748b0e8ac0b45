"""DRF's throttles keyed on the client address from core.ip (not on a forgeable X-Forwarded-For).

DRF's own `get_ident` trusts the whole `X-Forwarded-For` header when NUM_PROXIES is unset, so a
rotating header gave every request a fresh bucket. Subclasses keep `isinstance` checks working.
When Redis is down the cache fails open (core/cache.py) and so do these throttles.
"""

from rest_framework import throttling

from core.ip import client_ip


class _ClientIpIdent:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(_ClientIpIdent, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_ClientIpIdent, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_ClientIpIdent, throttling.ScopedRateThrottle):
    pass
