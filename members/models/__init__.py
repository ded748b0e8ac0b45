"""members models, one module per subject (users, memberships, notifications, points and the mall,
onboarding, profile); imported here so Django finds them and `from members.models import X` works."""

from members.models.memberships import *  # noqa: F403
from members.models.notifications import *  # noqa: F403
from members.models.onboarding import *  # noqa: F403
from members.models.points import *  # noqa: F403
from members.models.profile import *  # noqa: F403
from members.models.users import *  # noqa: F403
