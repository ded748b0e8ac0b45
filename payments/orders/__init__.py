"""Orders: checkout, payment attempts, WeChat Pay notifications, refunds, sweeps and reconciliation.

One module per subject (docs/architecture.md §4 "The life of an order"): `transitions` (the order's
state machine), `checkout` (pricing and creating orders, free orders), `payment_attempts` (prepay,
confirm, query, close), `notifications` (WeChat's payment and refund callbacks), `refunds`,
`sweeps`, `reconciliation`; reads in `selectors`; pages, API, admin and Celery tasks beside them.
"""
