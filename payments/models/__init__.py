"""payments models, one module per area so orders and the ledger can evolve independently."""

from payments.models.ledger import *  # noqa: F403
from payments.models.orders import *  # noqa: F403
from payments.models.withdrawals import *  # noqa: F403
