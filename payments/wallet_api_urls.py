"""/api/v1/wallet URLs (earnings wallet and withdrawals)."""

from django.urls import path

from payments import wallet_apis

urlpatterns = [
    path("wallet/", wallet_apis.WalletApi.as_view(), name="api-wallet"),
    path("wallet/earnings/", wallet_apis.EarningsApi.as_view(), name="api-wallet-earnings"),
    path("wallet/withdrawals/", wallet_apis.WithdrawalsApi.as_view(), name="api-wallet-withdrawals"),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/",
        wallet_apis.WithdrawalDetailApi.as_view(),
        name="api-wallet-withdrawal",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/cancel/",
        wallet_apis.WithdrawalCancelApi.as_view(),
        name="api-wallet-withdrawal-cancel",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/confirm/",
        wallet_apis.WithdrawalConfirmApi.as_view(),
        name="api-wallet-withdrawal-confirm",
    ),
]
