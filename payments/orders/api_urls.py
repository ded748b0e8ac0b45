"""/api/v1 order URLs (API.md rows 4–6)."""

from django.urls import path

from payments.orders import apis

urlpatterns = [
    path("orders/", apis.OrdersApi.as_view(), name="api-orders"),
    path("orders/<str:order_no>/", apis.OrderDetailApi.as_view(), name="api-order-detail"),
    path("orders/<str:order_no>/refund/", apis.OrderRefundApi.as_view(), name="api-order-refund"),
    path("orders/<str:order_no>/cancel/", apis.OrderCancelApi.as_view(), name="api-order-cancel"),
]
