"""/api/v1 URLs of payments: orders and the wallet."""

from payments import order_api_urls
from payments.wallet import api_urls as wallet_api_urls

urlpatterns = [*order_api_urls.urlpatterns, *wallet_api_urls.urlpatterns]
