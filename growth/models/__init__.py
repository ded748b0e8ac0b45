"""growth models, one module per tool. Django discovers models through this package, so it imports
every module's models; callers may keep `from growth.models import X`."""

from growth.models.campaigns import *  # noqa: F403
from growth.models.coupons import *  # noqa: F403
from growth.models.flash_sales import *  # noqa: F403
from growth.models.redeem_codes import *  # noqa: F403
from growth.models.segments import *  # noqa: F403
