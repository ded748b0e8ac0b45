"""Page URLs of the earnings wallet, and WeChat's transfer notify endpoint."""

from django.urls import path

from payments import wallet_views

urlpatterns = [
    path("wallet/", wallet_views.wallet, name="wallet"),
    path("wallet/withdraw/", wallet_views.wallet_withdraw, name="wallet_withdraw"),
    path("wallet/withdrawals/<int:withdrawal_id>/", wallet_views.withdrawal_detail, name="withdrawal_detail"),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/cancel/",
        wallet_views.withdrawal_cancel,
        name="withdrawal_cancel",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/confirm/",
        wallet_views.withdrawal_confirm,
        name="withdrawal_confirm",
    ),
    path("wechatpay/transfer-notify/", wallet_views.transfer_notify, name="transfer_notify"),
]
