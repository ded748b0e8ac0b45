"""wallet_api_urls."""

urlpatterns: list = []
