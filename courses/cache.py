"""The published catalog from Django's cache (Redis in production): catalog pages and one course's page.

What is cached is the same for every reader: a catalog page's rows (courses with their tiers, lesson
counts and teacher) and one course with its tiers, teacher and published lessons. Per-reader answers
(access, progress, price) are still computed per request, by the same selectors, from instances
rebuilt out of the cached field values (`Model.from_db`, as if just loaded). Teachers are cached
trimmed to what is shown (id, nickname, member number, username, avatar) — never a password hash or a
phone number. Plain values, not pickled model instances: unpickling models costs more than the query.

Invalidation (core.cache_versions): every entry carries the versions it was built at and is read
together with the current ones (one round trip), so a stale entry is never served. The catalog's
version is this module's: every write of a course, a lesson or a course's tiers bumps it (the receivers
below, on courses' own models, connected in CoursesConfig.ready), at once and again after the
transaction commits. What members owns and the catalog shows — a tier, a user's shown name or avatar —
moves members' shown-facts version instead (`members.cache_versions.shown_facts_bump`, called by the
members code that makes the change), which catalog entries carry beside the catalog's.

Per member: the facts that decide a member's access to courses (`courses.member_facts.Entitlements`: tier
ids, active enrolments, a lapsed membership, the tier discount) are cached the same way under the
member's version, which members owns (`members.cache_versions.member_bump`: every members service that
creates, changes, extends or ends a Membership calls it) and this module also bumps on every save or
delete of the member's CourseEnrolment. An entry also carries the catalog versions (tier ranks, names
and discounts are shown facts) and the moment it stops being true by itself (the membership's start or
end), after which it is rebuilt. Queryset `update()`s send no signal: code that changes these rows that
way calls `member_bump(user_id)`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from core.cache_versions import bump_version, current_version
from courses.models import Course, CourseEnrolment, Lesson
from members.cache_versions import (
    SHOWN_VERSION_KEY,
    member_bump,
    member_version,
    member_version_key,
    shown_version,
)
from members.models import MembershipTier, User

VERSION_KEY = "courses:catalog:version"
TTL_SECONDS = 600
FORMAT = 4  # bump when what is cached changes shape
TEACHER_FIELDS = ("id", "nickname", "member_no", "username", "avatar_url")


def version() -> int:
    return current_version(VERSION_KEY)


def bump(**_signal_kwargs) -> None:
    """A course, a lesson or a course's tiers changed: every catalog entry is stale."""
    bump_version(VERSION_KEY)


@lru_cache(maxsize=1)
def _shape() -> str:
    """Changes when the cached values' shape does (a deploy that adds or drops a column): old entries
    are then simply not found, never rebuilt into instances with the wrong fields."""
    names = [f.attname for model in (Course, Lesson, MembershipTier) for f in model._meta.concrete_fields]
    return hashlib.sha1(f"{FORMAT}:{names}:{TEACHER_FIELDS}".encode()).hexdigest()[:8]


def get_many_or_build(
    builders: dict[str, Callable[[], Any]],
    *,
    member: tuple[int, Callable[[], tuple[Any, Any]]] | None = None,
) -> dict[str, Any]:
    """{name: value} of the current catalog version, in one round trip with the version itself.

    Each entry is stored as (version, value) under a key without the version: a value is served only
    when its version is the current one, else rebuilt by its builder and stored again. A writer's bump
    makes every entry stale at once; a slow reader storing an older version only causes a miss.

    `member` (user id, build): that member's entitlement facts too, as `values["member"]`, in the same
    round trip; `build()` returns (facts, the moment they stop holding or None).
    """
    keys = {name: f"courses:catalog:{_shape()}:{name}" for name in builders}
    wanted = [VERSION_KEY, SHOWN_VERSION_KEY, *keys.values()]
    if member is not None:
        member_keys = (member_version_key(member[0]), f"courses:member:{_shape()}:{member[0]}")
        wanted += member_keys
    found = cache.get_many(wanted)
    catalog_current = found.get(VERSION_KEY)
    if catalog_current is None:
        catalog_current = version()
    shown_current = found.get(SHOWN_VERSION_KEY)
    if shown_current is None:
        shown_current = shown_version()
    current = (catalog_current, shown_current)
    values: dict[str, Any] = {}
    fresh: dict[str, tuple[Any, ...]] = {}
    if member is not None:
        member_current = found.get(member_keys[0])
        if member_current is None:
            member_current = member_version(member[0])
        stamp = (current, member_current)
        entry = found.get(member_keys[1])
        if entry is not None and entry[0] == stamp and (entry[1] is None or timezone.now() < entry[1]):
            values["member"] = entry[2]
        else:
            facts, until = member[1]()
            values["member"] = facts
            fresh[member_keys[1]] = (stamp, until, facts)
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
    course = thawed(Course, state["course"])
    course.teacher = thawed(User, state["teacher"])
    tiers = MembershipTier.objects.all()
    tiers._result_cache = [thawed(MembershipTier, tier) for tier in state["tiers"]]
    tiers._prefetch_done = True  # type: ignore[attr-defined]  # Django's prefetch flag, set as prefetch would
    course._prefetched_objects_cache = {"included_in_tiers": tiers}
    for name, value in state["extra"].items():
        setattr(course, name, value)
    return course


# ---- invalidation ----------------------------------------------------------------------------------------


def _enrolment_changed(sender, instance, **kwargs) -> None:
    member_bump(instance.user_id)


def connect() -> None:
    """Receivers on courses' own models only; members' writes bump members.cache_versions explicitly."""
    for model in (Course, Lesson):
        post_save.connect(bump, sender=model, dispatch_uid=f"courses-cache-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"courses-cache-delete-{model.__name__}")
    m2m_changed.connect(bump, sender=Course.included_in_tiers.through, dispatch_uid="courses-cache-tiers")
    post_save.connect(
        _enrolment_changed, sender=CourseEnrolment, dispatch_uid="courses-member-save-CourseEnrolment"
    )
    post_delete.connect(
        _enrolment_changed, sender=CourseEnrolment, dispatch_uid="courses-member-delete-CourseEnrolment"
    )
