"""Demo data of payments: the sandbox channel's demo merchant/platform keys (generated once).

Orders themselves are made by people clicking through checkout in the demo (sandbox channel);
the apps that sell things seed what is for sale.
"""

from __future__ import annotations

from django.conf import settings


def seed(*, stdout, history: bool = False) -> None:
    if not settings.PAYMENTS_SANDBOX_ENABLED:
        stdout.write("payments: sandbox disabled, no demo keys")
        return
    from payments.gateways import sandbox

    directory = sandbox.ensure_sandbox_keys()
    keys = sandbox.sandbox_keys()
    stdout.write(f"payments: sandbox keys in {directory} (public key id {keys.public_key_id})")
