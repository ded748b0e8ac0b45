"""Page URLs of the earnings wallet (/payments/wallet/…), and WeChat's transfer notify endpoint."""

from django.urls import path

from payments.wallet import views

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/withdraw/", views.wallet_withdraw, name="wallet_withdraw"),
    path("wallet/withdrawals/<int:withdrawal_id>/", views.withdrawal_detail, name="withdrawal_detail"),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/cancel/",
        views.withdrawal_cancel,
        name="withdrawal_cancel",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/confirm/",
        views.withdrawal_confirm,
        name="withdrawal_confirm",
    ),
    path("wechatpay/transfer-notify/", views.transfer_notify, name="transfer_notify"),
]
