"""/api/v1 URLs of payments: orders and the wallet."""

from payments import wallet_api_urls
from payments.orders import api_urls as order_api_urls

urlpatterns = [*order_api_urls.urlpatterns, *wallet_api_urls.urlpatterns]
