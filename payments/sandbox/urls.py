"""Page URL of the sandbox cashier, added to the `payments` namespace only when the sandbox is on."""

from django.urls import path

from payments.sandbox import views

urlpatterns = [
    path("sandbox/<str:out_trade_no>/", views.sandbox_cashier, name="sandbox_cashier"),
]
