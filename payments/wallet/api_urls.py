"""/api/v1/wallet URLs (earnings wallet and withdrawals)."""

from django.urls import path

from payments.wallet import apis

urlpatterns = [
    path("wallet/", apis.WalletApi.as_view(), name="api-wallet"),
    path("wallet/earnings/", apis.EarningsApi.as_view(), name="api-wallet-earnings"),
    path("wallet/withdrawals/", apis.WithdrawalsApi.as_view(), name="api-wallet-withdrawals"),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/",
        apis.WithdrawalDetailApi.as_view(),
        name="api-wallet-withdrawal",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/cancel/",
        apis.WithdrawalCancelApi.as_view(),
        name="api-wallet-withdrawal-cancel",
    ),
    path(
        "wallet/withdrawals/<int:withdrawal_id>/confirm/",
        apis.WithdrawalConfirmApi.as_view(),
        name="api-wallet-withdrawal-confirm",
    ),
]
