"""Choice sets the API exposes, by stable name (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).

The serializers use `.values` (value-only choices), so the overrides must be the same value lists for
drf-spectacular to recognise them.
"""

from payments.models import Order, PayoutMethod

ORDER_STATUS = Order.Status.values
PAYOUT_METHOD = PayoutMethod.values
