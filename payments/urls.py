"""Page URLs of payments: checkout/orders and the wallet."""

from payments import wallet_urls
from payments.orders import urls as order_urls

app_name = "payments"
urlpatterns = [*order_urls.urlpatterns, *wallet_urls.urlpatterns]
