"""Django admin of the courses app. Django discovers `courses.admin`; the admin classes live with their
subject and register themselves when imported here: `courses.catalog.admin` (courses, lessons,
enrolments, progress), `courses.events.admin` (events, registrations, tier quotas),
`courses.camps.admin` (camps, terms, seats, check-ins, moderation, reminders), `courses.media.admin`
(protected audio and video) and `courses.learning.admin` (quizzes, homework and its review, attempts,
course completions). Teachers see only their own rows (`courses.admin_ownership`)."""

from courses.camps import admin as camp_admin  # noqa: F401 - registers the camps' admin classes
from courses.catalog import admin as catalog_admin  # noqa: F401 - registers the catalog's admin classes
from courses.events import admin as event_admin  # noqa: F401 - registers the events' admin classes
from courses.learning import admin as learning_admin  # noqa: F401 - registers the learning admin classes
from courses.media import admin as media_admin  # noqa: F401 - registers the media admin class
