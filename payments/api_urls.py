"""/api/v1 URLs of payments: orders and the wallet; the sandbox payment in development only."""

from django.conf import settings

from payments.orders import api_urls as order_api_urls
from payments.wallet import api_urls as wallet_api_urls

urlpatterns = [*order_api_urls.urlpatterns, *wallet_api_urls.urlpatterns]
if settings.PAYMENTS_SANDBOX_ENABLED:
    # Development and tests only: production settings force the flag off, so they never route it.
    from payments.sandbox import api_urls as sandbox_api_urls

    urlpatterns += sandbox_api_urls.urlpatterns
