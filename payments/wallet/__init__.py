"""The members' earnings wallet: the double-entry ledger, held earnings and their settlement, withdrawals
(request, approval, payout by WeChat 商家转账) and the wallet's pages, API and admin.

Modules by subject: `ledger` (accounts and postings), `earnings` (held earnings and their reversal),
`settlement` (the nightly settlement batch), `ledger_check` (proof that the books balance),
`withdrawals` (the request and the state machine), `withdrawal_approval`, `withdrawal_payouts`,
`selectors` / `views` / `forms` / `apis` / `urls` / `api_urls` (the member's wallet), `admin_ledger`,
`admin_withdrawals`, `tasks`. The models stay in payments.models (ledger, withdrawals).
"""
