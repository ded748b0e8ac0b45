"""The client's IP address, decided by one rule from configuration.

`X-Forwarded-For` is written by whoever sent the request, so only the hops our own proxies appended
can be believed. The chain is the header's addresses followed by REMOTE_ADDR (the peer that
connected to us). Walking it from the right, an address is skipped while it is one of our proxies:

- `TRUSTED_PROXY_COUNT=N` — the last N addresses of the chain are our proxies (a load balancer in front
  of gunicorn: N=1). The client is the address just before them.
- `TRUSTED_PROXY_CIDRS=10.0.0.0/8,…` — addresses inside these networks are our proxies, however many.

With neither (the default), REMOTE_ADDR is the client and the header is ignored. Anything that is
not an IP address ends the walk (a forged header cannot smuggle text into throttle keys or audit
rows); if nothing valid is left the answer is REMOTE_ADDR.

Used by DRF's throttles (core/throttling.py), allauth (members.adapters), the login lockout
(core/lockout.py), audit rows and WeChat Pay's `payer_client_ip` (payments.orders.views.client_ip).

django-ipware was tried: with its default algorithm a proxy count of 0 still believes the leftmost
forwarded address, which is the forgery this module exists to stop; these twenty lines are clearer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from django.conf import settings
from django.http import HttpRequest

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def _parse(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip().split("%")[0])
    except ValueError:
        return None


def client_ip_from_meta(meta: Mapping[str, Any]) -> str:
    remote = _parse(str(meta.get("REMOTE_ADDR", "")))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXY_CIDRS", ()) or ()))
    if remote is None:
        return ""
    if not count and not networks:
        return str(remote)
    forwarded = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    chain = [_parse(part) for part in forwarded] + [remote]
    if count:
        index = len(chain) - 1 - count
        candidate = chain[max(index, 0)] if len(chain) > 1 else remote
        return str(candidate) if candidate is not None else str(remote)
    client = remote
    for address in reversed(chain):
        if address is None:
            break
        client = address
        if not any(address in network for network in networks):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str:
    """The client's address as a string ("" only when the server gave no peer address)."""
    cached: str | None = getattr(request, "_zhiquan_client_ip", None)
    if cached is None:
        cached = client_ip_from_meta(request.META)
        try:
            request._zhiquan_client_ip = cached  # type: ignore[attr-defined]  # a per-request memo
        except AttributeError:  # a DRF Request proxies attribute writes to the HttpRequest anyway
            pass
    return cached
