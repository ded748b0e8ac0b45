"""payments admin: orders/refunds/notifications and the ledger/withdrawals live in separate modules."""

from payments.orders import admin as orders_admin  # noqa: F401  (importing registers the ModelAdmins)
from payments.wallet import admin_ledger, admin_withdrawals  # noqa: F401  (registers the ModelAdmins)
