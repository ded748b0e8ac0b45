from django.conf import settings

from core import brand


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "SANDBOX_ENABLED": settings.PAYMENTS_SANDBOX_ENABLED,
        "brand": brand.current(),
    }
