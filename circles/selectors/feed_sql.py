"""The API feed's hot path in hand-written SQL: the circle, the reader's membership and a page of
posts (authors, liked_by_me) in ONE statement.

Why raw SQL (issue 17 keeps it only with the figure that justifies it): docs/benchmarks.md, "Circle
feed" — `GET /api/v1/circles/<id>/posts/` on 100,000 posts, as a share of its floor, ran at 24% with
4 queries in the first ORM version and at 43–56% as this statement (2 queries: the JWT user, then
this one), because the ORM's query compilation and model building cost more than the database work.

Only the unfiltered API feed runs here. The ORM feed in `circles.selectors.posts` is not a twin of it:
it serves the circle page (model instances for the template) and tag or search requests, which this
statement does not implement; `feed_rows` hands those to it.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC

from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from circles.models import Circle, CircleMembership, Post, PostLike
from circles.selectors.access import CircleAccess, circle_access
from circles.selectors.posts import (
    FEED_PAGE_SIZE,
    FEEDS,
    feed_count,
    feed_page_number,
    feed_queryset,
    search_term,
)
from members.models import User

# Just what circle_access and the feed read (the hot path loads no other column).
_ACCESS_MEMBERSHIP_FIELDS = (
    "id",
    "circle",
    "user",
    "role",
    "status",
    "expires_at",
    "via_tier",
    "accepted_rules_version",
)


_ACCESS_CIRCLE_FIELDS = (
    "id",
    "owner",
    "name",
    "is_published",
    "rules_version",
    "visible_post_count",
    "featured_post_count",
)


@functools.cache
def _access_statement() -> str:
    """SELECT of a published circle (`c`) and the user's membership row (`m`, LEFT JOINed).
    Placeholders: the user id; the caller appends its WHERE on c."id" and c."is_published"."""
    circle_cols = ", ".join(f'c."{_column(Circle, f)}"' for f in _ACCESS_CIRCLE_FIELDS)
    member_cols = ", ".join(f'm."{_column(CircleMembership, f)}"' for f in _ACCESS_MEMBERSHIP_FIELDS)
    return (
        f"SELECT {circle_cols}, {member_cols}{{more}} FROM {Circle._meta.db_table} c "
        f'LEFT JOIN {CircleMembership._meta.db_table} m ON m."circle_id" = c."id" AND m."user_id" = %s '
    )


_ACCESS_COLUMNS = len(_ACCESS_CIRCLE_FIELDS) + len(_ACCESS_MEMBERSHIP_FIELDS)


def _circle_and_membership(values) -> tuple[Circle, CircleMembership | None]:
    """Model instances (only the access fields loaded) from a row of `_access_statement`."""
    n = len(_ACCESS_CIRCLE_FIELDS)
    circle = Circle.from_db(
        "default",
        [_attname(Circle, f) for f in _ACCESS_CIRCLE_FIELDS],
        _convert(Circle, _ACCESS_CIRCLE_FIELDS, values[:n]),
    )
    membership = None
    if values[n] is not None:
        membership = CircleMembership.from_db(
            "default",
            [_attname(CircleMembership, f) for f in _ACCESS_MEMBERSHIP_FIELDS],
            _convert(CircleMembership, _ACCESS_MEMBERSHIP_FIELDS, values[n:_ACCESS_COLUMNS]),
        )
        membership.circle = circle
    return circle, membership


def _circle_id(circle_id) -> int:

    try:
        return int(circle_id)
    except (TypeError, ValueError):
        raise Http404 from None


def circle_get_with_access(*, circle_id, user) -> tuple[Circle, CircleAccess]:
    """A published circle and the user's access in ONE statement.

    A hand-written LEFT JOIN: the ORM's compilation of this join cost more than the query itself.
    The instances carry only the listed fields; any other field loads on first access.
    """
    # The circle's included tiers are NOT read here: a correlated subquery doubled this statement's
    # cost for every member, to save one query for tier-included readers only (who take at most 3 more).
    sql = _access_statement().format(more="") + 'WHERE c."id" = %s AND c."is_published" = %s'
    user_id = user.pk if getattr(user, "is_authenticated", False) else 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, _circle_id(circle_id), True])
        found = cursor.fetchone()
    if found is None:
        raise Http404
    circle, membership = _circle_and_membership(found)
    return circle, circle_access(user, circle, membership=membership)


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _convert(model, names, values) -> list:
    """Apply the backend's converters (SQLite booleans and datetimes arrive as ints and text)."""
    out = []
    for (expression, converters), value in zip(_converters(model, tuple(names)), values, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        out.append(value)
    return out


@functools.cache
def _converters(model, names: tuple[str, ...]) -> list[tuple[object, list]]:

    found = []
    for name in names:
        expression = model._meta.get_field(name).get_col(model._meta.db_table)
        found.append((expression, connection.ops.get_db_converters(expression)))
    return found


FEED_ROW_COLUMNS = (
    "id",
    "circle_id",
    "kind",
    "title",
    "body",
    "images",
    "tags",
    "status",
    "is_pinned",
    "is_featured",
    "is_answered",
    "question_id",
    "like_count",
    "comment_count",
    "tip_count",
    "tip_total_fen",
    "created_at",
    "featured_at",
)


FEED_ROW_AUTHOR_COLUMNS = ("id", "username", "nickname", "member_no", "avatar_url")


# feed: (extra WHERE, its parameters, ORDER BY columns — all descending)
_FEED_FILTERS: dict[str, tuple[str, list[object], tuple[str, ...]]] = {
    "newest": ("", [], ("is_pinned", "created_at", "id")),
    "featured": ('AND p."is_featured" = %s', [True], ("featured_at", "id")),
    "unanswered": (
        'AND p."kind" = %s AND p."is_answered" = %s',
        [Post.Kind.QUESTION, False],
        ("created_at", "id"),
    ),
}


@functools.cache
def _feed_statement(feed: str, *, circle_ref: str) -> tuple[str, tuple]:
    """One page of a feed with authors and liked_by_me: (SQL, parameters after the reader's id).

    Columns are aliased p_<post column> / a_<author column> (then `total` for the unanswered feed, then
    `liked`), so the statement can also be used as a LATERAL subquery. `circle_ref` is `%s` (the circle
    id then leads the parameters) or an outer column.
    """
    where, extra, order = _FEED_FILTERS[feed]
    columns = ", ".join(
        [f'p."{c}" AS "p_{c}"' for c in FEED_ROW_COLUMNS]
        + [f'u."{c}" AS "a_{c}"' for c in FEED_ROW_AUTHOR_COLUMNS]
    )
    # Unanswered questions are few (partial index): their total rides along as a window count.
    total = ', COUNT(*) OVER () AS "total"' if feed == "unanswered" else ""
    order_by = ", ".join(f'p."{c}" DESC' for c in order)
    sql = (
        f"SELECT {columns}{total}, EXISTS(SELECT 1 FROM {PostLike._meta.db_table} l "
        f'WHERE l."post_id" = p."id" AND l."user_id" = %s) AS "liked" '
        f'FROM {Post._meta.db_table} p INNER JOIN {User._meta.db_table} u ON u."id" = p."author_id" '
        f'WHERE p."circle_id" = {circle_ref} AND p."status" = %s {where} ORDER BY {order_by} LIMIT %s OFFSET %s'
    )
    return sql, (Post.Status.VISIBLE, *extra)


def _feed_result(feed: str, fetched: list[tuple], circle: Circle) -> tuple[list[dict], int]:
    """Rows of `_feed_statement` → (feed rows, total)."""
    if feed != "unanswered":
        return [_feed_row(v) for v in fetched], feed_count(
            circle=circle, feed=feed, queryset=Post.objects.none()
        )
    rows = [_feed_row((*v[:-2], v[-1])) for v in fetched]
    if fetched:
        return rows, fetched[0][-2]
    # past the last page: count separately
    return rows, Post.objects.filter(
        circle_id=circle.pk, status=Post.Status.VISIBLE, kind=Post.Kind.QUESTION, is_answered=False
    ).count()


_POST_N = len(FEED_ROW_COLUMNS)


_AUTHOR_END = _POST_N + len(FEED_ROW_AUTHOR_COLUMNS)


def _feed_row(values: tuple) -> dict:
    """A row of `_feed_statement` (or of `feed_queryset`'s values for a tag or search) as a dict with
    an `author` dict and `liked_by_me`.

    JSON columns arrive as text from a raw cursor (Django decodes JSON in the field, not the driver);
    SQLite also hands back booleans as ints and datetimes as text.
    """
    row = dict(zip(FEED_ROW_COLUMNS, values, strict=False))  # author columns and liked follow
    row["author"] = dict(zip(FEED_ROW_AUTHOR_COLUMNS, values[_POST_N:_AUTHOR_END], strict=True))
    row["liked_by_me"] = bool(values[-1])
    for key in ("images", "tags"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    if not isinstance(row["is_pinned"], bool):
        _normalise_sqlite_row(row)
    return row


def _normalise_sqlite_row(row: dict) -> None:

    for key in ("is_pinned", "is_featured", "is_answered"):
        row[key] = bool(row[key])
    for key in ("created_at", "featured_at"):
        value = row[key]
        if isinstance(value, str):
            value = parse_datetime(value)
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        row[key] = value


def feed_rows(
    *,
    circle: Circle,
    user,
    feed: str = "newest",
    page: int = 1,
    tag: str = "",
    q: str = "",
    page_size: int = FEED_PAGE_SIZE,
) -> tuple[list[dict], int]:
    """The API feed as plain rows (same order and filters as `feed_page`) in ONE statement.

    The hot path (no tag/search) is one hand-written SELECT: at 100,000 posts the ORM's query
    compilation and model building cost more than the database work (see docs/benchmarks.md).
    """
    feed = feed if feed in FEEDS else "newest"
    page = feed_page_number(page)
    tag, q = search_term(tag, max_chars=20), search_term(q, max_chars=50)
    offset = (page - 1) * page_size
    if tag or q:
        queryset = feed_queryset(circle=circle, user=user, feed=feed, tag=tag, q=q)
        rows = list(
            queryset.values_list(
                *FEED_ROW_COLUMNS, *(f"author__{c}" for c in FEED_ROW_AUTHOR_COLUMNS), "liked_by_me"
            )[offset : offset + page_size]
        )
        return [_feed_row(r) for r in rows], feed_count(
            circle=circle, feed=feed, tag=tag, q=q, queryset=queryset
        )
    sql, params = _feed_statement(feed, circle_ref="%s")
    reader = getattr(user, "pk", None) or 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [reader, circle.pk, *params, page_size, offset])
        fetched = cursor.fetchall()
    return _feed_result(feed, fetched, circle)


def feed_with_access(
    *, circle_id, user, feed: str = "newest", page: int = 1, page_size: int = FEED_PAGE_SIZE
) -> tuple[Circle, CircleAccess, list[dict], int]:
    """The API feed's hot path (no tag or search): the circle, the reader's access, one page of posts
    and the total in ONE statement on PostgreSQL — the page is a LATERAL subquery of the access
    statement, and is dropped unread when the access check refuses. Elsewhere: two statements.
    Raises Http404 for a missing or unpublished circle; rows are [] when the user may not read.
    """
    feed = feed if feed in FEEDS else "newest"
    page = feed_page_number(page)
    if connection.vendor != "postgresql":
        circle, access = circle_get_with_access(circle_id=circle_id, user=user)
        if not access.can_read:
            return circle, access, [], 0
        rows, count = feed_rows(circle=circle, user=user, feed=feed, page=page, page_size=page_size)
        return circle, access, rows, count
    page_sql, page_params = _feed_statement(feed, circle_ref='c."id"')
    _where, _extra, order = _FEED_FILTERS[feed]
    sql = (
        _access_statement().format(more=", f.*")
        + f"LEFT JOIN LATERAL ({page_sql}) f ON TRUE "
        + 'WHERE c."id" = %s AND c."is_published" = %s ORDER BY '
        + ", ".join(f'f."p_{c}" DESC' for c in order)
    )
    reader = user.pk if getattr(user, "is_authenticated", False) else 0
    offset = (page - 1) * page_size
    params = [reader, reader, *page_params, page_size, offset, _circle_id(circle_id), True]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found:
        raise Http404
    circle, membership = _circle_and_membership(found[0])
    access = circle_access(user, circle, membership=membership)
    if not access.can_read:
        return circle, access, [], 0
    fetched = [row[_ACCESS_COLUMNS:] for row in found if row[_ACCESS_COLUMNS] is not None]
    rows, count = _feed_result(feed, fetched, circle)
    return circle, access, rows, count
