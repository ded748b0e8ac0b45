"""wallet_urls."""

urlpatterns: list = []
