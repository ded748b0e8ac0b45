"""Page URLs of payments: checkout/orders and the wallet; the sandbox cashier in development only."""

from django.conf import settings

from payments.orders import urls as order_urls
from payments.wallet import urls as wallet_urls

app_name = "payments"
urlpatterns = [*order_urls.urlpatterns, *wallet_urls.urlpatterns]
if settings.PAYMENTS_SANDBOX_ENABLED:
    # Development and tests only: production settings force the flag off, so they never route it.
    from payments.sandbox import urls as sandbox_urls

    urlpatterns += sandbox_urls.urlpatterns
