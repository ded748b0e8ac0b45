"""The published catalog from Django's cache (Redis in production): catalog pages and one course's page.

What is cached is the same for every reader: a catalog page's rows (courses with their tiers, lesson
counts and teacher) and one course with its tiers, teacher and published lessons. Per-reader answers
(access, progress, price) are still computed per request, by the same selectors, from instances
rebuilt out of the cached field values (`Model.from_db`, as if just loaded). Teachers are cached
trimmed to what is shown (id, nickname, member number, username, avatar) — never a password hash or a
phone number. Plain values, not pickled model instances: unpickling models costs more than the query.

Invalidation: one version number for the whole catalog. Every write that changes what the catalog
shows — a course, a lesson, a course's tiers, a tier, a user's shown name or avatar — bumps it (the
receivers below, connected in CoursesConfig.ready), at once and again after the transaction commits
(a reader rebuilding between the two would otherwise cache the uncommitted past). Every entry carries
the version it was built at and is read together with the current version (one round trip), so a
stale entry is never served.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "courses:catalog:version"
TTL_SECONDS = 600
FORMAT = 2  # bump when what is cached changes shape
TEACHER_FIELDS = ("id", "nickname", "member_no", "username", "avatar_url")


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        # A fresh epoch (milliseconds) if the key was evicted: never the number of an old version.
        cache.add(VERSION_KEY, int(time.time() * 1000), timeout=None)
        current = cache.get(VERSION_KEY)
    return int(current)


def _bump_now() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or evicted): a new epoch is a new version
        cache.set(VERSION_KEY, int(time.time() * 1000), timeout=None)


def bump(**_signal_kwargs) -> None:
    _bump_now()
    transaction.on_commit(_bump_now)


@lru_cache(maxsize=1)
def _shape() -> str:
    """Changes when the cached values' shape does (a deploy that adds or drops a column): old entries
    are then simply not found, never rebuilt into instances with the wrong fields."""
    from courses.models import Course, Lesson
    from members.models import MembershipTier

    names = [f.attname for model in (Course, Lesson, MembershipTier) for f in model._meta.concrete_fields]
    return hashlib.sha1(f"{FORMAT}:{names}:{TEACHER_FIELDS}".encode()).hexdigest()[:8]


def get_many_or_build(builders: dict) -> dict:
    """{name: value} of the current catalog version, in one round trip with the version itself.

    Each entry is stored as (version, value) under a key without the version: a value is served only
    when its version is the current one, else rebuilt by its builder and stored again. A writer's bump
    makes every entry stale at once; a slow reader storing an older version only causes a miss.
    """
    keys = {name: f"courses:catalog:{_shape()}:{name}" for name in builders}
    found = cache.get_many([VERSION_KEY, *keys.values()])
    current = found.get(VERSION_KEY)
    if current is None:
        current = version()
    values, fresh = {}, {}
    for name, build in builders.items():
        entry = found.get(keys[name])
        if entry is not None and entry[0] == current:
            values[name] = entry[1]
        else:
            values[name] = build()
            fresh[keys[name]] = (current, values[name])
    if fresh:
        cache.set_many(fresh, TTL_SECONDS)
    return values


def get_or_build(name: str, build):
    """The cached value `name` of the current catalog version, built and stored on a miss."""
    return get_many_or_build({name: build})[name]


# ---- plain values of instances, and instances again ----------------------------------------------------


def frozen(instance, fields=None) -> tuple[tuple[str, ...], tuple]:
    names = tuple(fields or (f.attname for f in instance._meta.concrete_fields))
    return names, tuple(getattr(instance, name) for name in names)


def thawed(model, state):
    names, values = state
    return model.from_db("default", names, values)


def frozen_course(course) -> dict:
    """A course with its teacher (trimmed) and prefetched tiers, as plain values."""
    return {
        "course": frozen(course),
        "teacher": frozen(course.teacher, TEACHER_FIELDS),
        "tiers": [frozen(tier) for tier in course.included_in_tiers.all()],
        "extra": {
            name: getattr(course, name) for name in ("lesson_count", "preview_count") if hasattr(course, name)
        },
    }


def thawed_course(state: dict):
    from courses.models import Course
    from members.models import MembershipTier, User

    course = thawed(Course, state["course"])
    course.teacher = thawed(User, state["teacher"])
    tiers = MembershipTier.objects.all()
    tiers._result_cache = [thawed(MembershipTier, tier) for tier in state["tiers"]]
    tiers._prefetch_done = True
    course._prefetched_objects_cache = {"included_in_tiers": tiers}
    for name, value in state["extra"].items():
        setattr(course, name, value)
    return course


# ---- invalidation ----------------------------------------------------------------------------------------


def _user_changed(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    """A user's shown name or avatar may be a teacher's: bump (no query to find out; edits are rare)."""
    if created or (update_fields is not None and not set(update_fields) & set(TEACHER_FIELDS)):
        return  # a new user teaches nothing yet; last_login on every sign-in shows nowhere
    bump()


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from courses.models import Course, Lesson
    from members.models import MembershipTier, User

    for model in (Course, Lesson, MembershipTier):
        post_save.connect(bump, sender=model, dispatch_uid=f"courses-cache-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"courses-cache-delete-{model.__name__}")
    m2m_changed.connect(bump, sender=Course.included_in_tiers.through, dispatch_uid="courses-cache-tiers")
    post_save.connect(_user_changed, sender=User, dispatch_uid="courses-cache-teacher")
