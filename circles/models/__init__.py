"""circles models, one module per subject: circles and rules, memberships, posts and comments, tips,
paid questions. Imported here so Django finds them and `from circles.models import X` keeps working."""

from circles.models.circles import *  # noqa: F403
from circles.models.memberships import *  # noqa: F403
from circles.models.posts import *  # noqa: F403
from circles.models.questions import *  # noqa: F403
from circles.models.tips import *  # noqa: F403
