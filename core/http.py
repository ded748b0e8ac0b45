"""Small HTTP helpers shared by the apps' views."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def local_path(request: HttpRequest, target: str | None) -> str | None:
    """`target` when it is a path on this site, else None.

    For `next` parameters and stored links: never another host (an open redirect), and only a path —
    `django.shortcuts.redirect()` reads a bare word as a URL name and fails the request, so callers
    redirect with `HttpResponseRedirect(path)`."""
    target = target or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
