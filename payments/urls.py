"""Page URLs of payments: checkout/orders and the wallet."""

from payments import order_urls
from payments.wallet import urls as wallet_urls

app_name = "payments"
urlpatterns = [*order_urls.urlpatterns, *wallet_urls.urlpatterns]
