"""/api/v1 URL of the sandbox payment, added to the API only when the sandbox is on."""

from django.urls import path

from payments.sandbox import views

urlpatterns = [
    path(
        "orders/<str:order_no>/sandbox-pay/",
        views.OrderSandboxPayApi.as_view(),
        name="api-order-sandbox-pay",
    ),
]
