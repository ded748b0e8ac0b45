from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core import brand


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_URL": settings.SITE_URL,
        "SANDBOX_ENABLED": settings.PAYMENTS_SANDBOX_ENABLED,
        "brand": brand.current(),
    }
