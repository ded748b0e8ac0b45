"""payments admin: orders/refunds/notifications and the ledger/withdrawals live in separate modules."""

from payments import admin_ledger  # noqa: F401  (importing registers the ModelAdmins)
from payments.orders import admin as orders_admin  # noqa: F401  (importing registers the ModelAdmins)
