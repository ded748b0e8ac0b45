"""The cache versions members' writes move, for the caches of the apps above (courses.cache).

Members sits below courses, so it cannot reach into their caches; instead it owns two versions and
bumps them explicitly in the code that makes the change, and the caches above read them with their
entries (no signal receivers on members' models):

- one per member (`member_bump`): the member's membership — its tier and window — decides what they may
  open. Every service that creates, changes, extends or ends a Membership bumps it (the grants in
  `members.memberships.grants`; code that updates memberships in bulk calls it too). A membership
  also ends by itself: the caches above store the moment an entry stops being true, so expiry needs
  no write.
- the shown facts (`shown_facts_bump`): tiers (code, name, rank, price, discount) and a user's shown
  name and avatar, which cached pages show (a course's tiers, its teacher). The tier editor and the
  services that change a nickname or an avatar bump it.
"""

from __future__ import annotations

from core.cache_versions import bump_version, current_version

MEMBER_VERSION_TTL_SECONDS = 7 * 24 * 3600  # an expired version is replaced by a new epoch: only a miss
SHOWN_VERSION_KEY = "members:shown:version"


def member_version_key(user_id: int) -> str:
    return f"members:member:{user_id}:version"


def member_version(user_id: int) -> int:
    """The member's current version (read with a cache's entries; started if there is none)."""
    return current_version(member_version_key(user_id), MEMBER_VERSION_TTL_SECONDS)


def member_bump(user_id: int) -> None:
    """The member's membership changed (or will when the transaction commits)."""
    bump_version(member_version_key(user_id), MEMBER_VERSION_TTL_SECONDS)


def shown_version() -> int:
    return current_version(SHOWN_VERSION_KEY)


def shown_facts_bump() -> None:
    """A tier, or a user's shown name or avatar, changed (or will when the transaction commits)."""
    bump_version(SHOWN_VERSION_KEY)
