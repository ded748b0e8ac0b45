"""Small HTTP helpers shared by the apps' views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
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


def redirect_to_next(request: HttpRequest, fallback: str, *args: Any, **kwargs: Any) -> HttpResponse:
    """Back to the posted `next` path when it is on this site (see `local_path`), else to `fallback`
    (a URL or URL name with its arguments, as `django.shortcuts.redirect()` takes them)."""
    target = local_path(request, request.POST.get("next"))
    return HttpResponseRedirect(target) if target else redirect(fallback, *args, **kwargs)
