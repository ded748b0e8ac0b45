"""referrals models, one module per subject (programme settings, promoters, agreements, attribution,
commissions, group buys, sales credit, staff share). Django discovers models through this package, so
it imports every module's models; callers may keep `from referrals.models import X`."""

from referrals.models.agreements import *  # noqa: F403
from referrals.models.attribution import *  # noqa: F403
from referrals.models.commissions import *  # noqa: F403
from referrals.models.group_buys import *  # noqa: F403
from referrals.models.programme import *  # noqa: F403
from referrals.models.promoters import *  # noqa: F403
from referrals.models.sales import *  # noqa: F403
from referrals.models.staff_share import *  # noqa: F403
