"""payments admin: orders/refunds/notifications and the ledger/withdrawals live in separate modules."""

from payments import admin_orders  # noqa: F401  (importing registers the ModelAdmins)
from payments.wallet import admin_ledger, admin_withdrawals  # noqa: F401  (registers the ModelAdmins)
