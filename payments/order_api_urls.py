"""/api/v1 order URLs (API.md rows 4–6)."""

from django.urls import path

from payments import order_apis, sandbox_apis

urlpatterns = [
    path("orders/", order_apis.OrdersApi.as_view(), name="api-orders"),
    path("orders/<str:order_no>/", order_apis.OrderDetailApi.as_view(), name="api-order-detail"),
    path("orders/<str:order_no>/refund/", order_apis.OrderRefundApi.as_view(), name="api-order-refund"),
    path(
        "orders/<str:order_no>/sandbox-pay/",
        sandbox_apis.OrderSandboxPayApi.as_view(),
        name="api-order-sandbox-pay",
    ),
]
