"""Models of the courses app, one module per subject (payments/models is the pattern): `sources` (how a
member got a benefit), `catalog` (courses, lessons, enrolments, progress), `learning` (quizzes, homework
and course completions), `events` (offline events, registrations, tier quotas), `camps` (camps, terms,
seats, check-ins, reminders) and `media` (protected audio and video).

Django discovers models through this package, so it imports every module's models; callers may keep
importing `from courses.models import X`. Who may see what is decided in the subjects' selectors only
(`courses.catalog.selectors.lesson_access`, `courses.events.selectors.event_access`,
`courses.camps.selectors.term_access`).
"""

from courses.models.camps import *  # noqa: F403
from courses.models.catalog import *  # noqa: F403
from courses.models.events import *  # noqa: F403
from courses.models.learning import *  # noqa: F403
from courses.models.media import *  # noqa: F403
from courses.models.sources import *  # noqa: F403
