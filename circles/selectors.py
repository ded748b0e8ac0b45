"""Reads of the circles app. `circle_access` is the ONE answer to "what may this user do here?",
used by pages, the API and services alike.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circles.models import (
    Circle,
    CircleGrant,
    CircleMembership,
    CircleMembershipEvent,
    CircleRules,
    CircleSettings,
    Comment,
    PaidQuestion,
    Post,
    PostLike,
    TipIntent,
)

Role = CircleMembership.Role
MStatus = CircleMembership.Status

FEED_PAGE_SIZE = 20
FEEDS = ("newest", "featured", "unanswered")
# Far beyond any real circle (20 million posts); a larger page number from a crafted URL would
# overflow PostgreSQL's bigint OFFSET and fail the request instead of showing an empty page.
MAX_FEED_PAGE = 1_000_000


def feed_page_number(page) -> int:
    """A feed page number between 1 and MAX_FEED_PAGE (pages past the last one are simply empty)."""
    return min(MAX_FEED_PAGE, max(1, int(page or 1)))


def plain_text(text) -> str:
    """User text trimmed, without NUL characters: PostgreSQL refuses them in text columns, so a form
    post carrying one is published without it, and a crafted search finds nothing, instead of failing."""
    return str(text or "").replace("\x00", "").strip()


def search_term(text: str, *, max_chars: int) -> str:
    """A search or tag term as typed (`plain_text`), cut to `max_chars`."""
    return plain_text(text)[:max_chars]


@dataclass(frozen=True)
class CircleAccess:
    """What one user may do in one circle.

    reason (when can_read is False): "login", "join", "expired", "removed".
    can_post is False while the current rules version is not accepted (rules_pending).
    """

    can_read: bool
    can_post: bool
    role: str  # owner/admin/guest/member/trial/expired/"" (none)
    reason: str = ""
    rules_pending: bool = False
    via_tier: bool = False
    membership: CircleMembership | None = None
    expires_at: datetime | None = None

    @property
    def can_manage(self) -> bool:
        """Owners and admins moderate, pin, feature and see the member list."""
        return self.can_read and self.role in (Role.OWNER, Role.ADMIN)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def role_label(self) -> str:
        if self.via_tier:
            return str(_("会员等级包含"))
        return str(Role(self.role).label) if self.role in Role.values else ""

    @property
    def reason_text(self) -> str:
        return str(
            {
                "login": _("请先登录"),
                "join": _("加入圈子后才能查看内容"),
                "expired": _("你的圈子成员资格已过期，续费后继续查看"),
                "removed": _("你已被移出该圈子"),
            }.get(self.reason, "")
        )


NO_ACCESS_LOGIN = CircleAccess(False, False, "", reason="login")


def _tier_includes(user, circle: Circle) -> bool:
    """True when the user's active membership tier — or any lower rank it includes
    (`members.memberships.selectors.active_tier_ids`) — is one the circle is included in. 1 query without a
    membership, 3 with one."""
    from members.memberships.selectors import active_tier_ids

    tier_ids = active_tier_ids(user)
    if not tier_ids:
        return False
    return circle.included_in_tiers.filter(pk__in=tier_ids).exists()


_UNSET = object()


def circle_access(
    user,
    circle: Circle,
    *,
    now: datetime | None = None,
    membership=_UNSET,
) -> CircleAccess:
    """Read/post capabilities of `user` in `circle`: 1 query for members, at most 4 for tier members.

    `membership` may be passed when the caller already loaded the user's row (or knows there is none).
    """
    if not getattr(user, "is_authenticated", False):
        return NO_ACCESS_LOGIN
    now = now or timezone.now()
    if membership is _UNSET:
        membership = CircleMembership.objects.filter(circle_id=circle.pk, user_id=user.pk).first()
    accepted = membership.accepted_rules_version if membership else 0
    rules_ok = circle.rules_version == 0 or accepted >= circle.rules_version

    if circle.owner_id == user.pk:
        return CircleAccess(True, True, Role.OWNER, membership=membership)
    if membership is not None and membership.status == MStatus.REMOVED:
        return CircleAccess(False, False, "", reason="removed", membership=membership)

    active = membership is not None and membership.status == MStatus.ACTIVE
    if active and membership.role in CircleMembership.STAFF_ROLES:
        return CircleAccess(
            True, rules_ok, membership.role, rules_pending=not rules_ok, membership=membership
        )
    if active and membership.expires_at is not None and membership.expires_at > now:
        return CircleAccess(
            True,
            rules_ok,
            membership.role if membership.role != Role.EXPIRED else Role.MEMBER,
            rules_pending=not rules_ok,
            membership=membership,
            expires_at=membership.expires_at,
        )
    if _tier_includes(user, circle):
        return CircleAccess(
            True, rules_ok, Role.MEMBER, rules_pending=not rules_ok, via_tier=True, membership=membership
        )
    if membership is not None and membership.expires_at is not None and not membership.via_tier:
        return CircleAccess(
            False,
            False,
            Role.EXPIRED,
            reason="expired",
            membership=membership,
            expires_at=membership.expires_at,
        )
    return CircleAccess(False, False, "", reason="join", membership=membership)


def circles_listed() -> QuerySet[Circle]:
    return (
        Circle.objects.filter(is_published=True)
        .select_related("owner")
        .annotate(
            member_count=Count(
                "memberships",
                filter=Q(memberships__status=MStatus.ACTIVE) & ~Q(memberships__role=Role.EXPIRED),
            )
        )
        .order_by("-created_at")
    )


def circle_get(*, circle_id) -> Circle:
    """A published circle or Http404 (unpublished circles are visible to nobody but admin)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Circle.objects.select_related("owner"), pk=circle_id, is_published=True)


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
    from django.http import Http404

    try:
        return int(circle_id)
    except (TypeError, ValueError):
        raise Http404 from None


def circle_get_with_access(*, circle_id, user) -> tuple[Circle, CircleAccess]:
    """A published circle and the user's access in ONE statement.

    A hand-written LEFT JOIN: the ORM's compilation of this join cost more than the query itself.
    The instances carry only the listed fields; any other field loads on first access.
    """
    from django.db import connection
    from django.http import Http404

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
    from django.db import connection

    out = []
    for (expression, converters), value in zip(_converters(model, tuple(names)), values, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        out.append(value)
    return out


@functools.cache
def _converters(model, names: tuple[str, ...]) -> list[tuple[object, list]]:
    from django.db import connection

    found = []
    for name in names:
        expression = model._meta.get_field(name).get_col(model._meta.db_table)
        found.append((expression, connection.ops.get_db_converters(expression)))
    return found


def circle_for_owner_tools(*, circle_id, user) -> tuple[Circle, CircleAccess]:
    """Owner/admin tools: 404 for anyone else (never leak existence)."""
    from django.http import Http404

    circle = circle_get(circle_id=circle_id)
    access = circle_access(user, circle)
    if not access.can_manage:
        raise Http404
    return circle, access


def current_rules(circle: Circle) -> CircleRules | None:
    if circle.rules_version == 0:
        return None
    return CircleRules.objects.filter(circle=circle, version=circle.rules_version).first()


# ---- feed ----------------------------------------------------------------------------------------------


def feed_queryset(
    *, circle: Circle, user, feed: str = "newest", tag: str = "", q: str = ""
) -> QuerySet[Post]:
    """Visible posts of a circle, ordered for `feed`, with author and `liked_by_me` in ONE query."""
    posts = Post.objects.filter(circle_id=circle.pk, status=Post.Status.VISIBLE)
    if feed == "featured":
        posts = posts.filter(is_featured=True).order_by("-featured_at", "-id")
    elif feed == "unanswered":
        posts = posts.filter(kind=Post.Kind.QUESTION, is_answered=False).order_by("-created_at", "-id")
    else:
        posts = posts.order_by("-is_pinned", "-created_at", "-id")
    if tag:
        if _json_contains_supported():
            posts = posts.filter(tags__contains=[tag])
        else:  # SQLite stores the JSON text ASCII-escaped
            import json

            posts = posts.filter(tags__icontains=json.dumps(tag))
    if q:
        posts = posts.filter(Q(title__icontains=q) | Q(body__icontains=q))
    # Only the author columns the feed shows: the encrypted phone is never decrypted for a feed.
    return (
        posts.select_related("author")
        .only(*FEED_POST_FIELDS, *(f"author__{name}" for name in FEED_AUTHOR_FIELDS))
        .annotate(liked_by_me=_liked_by(user))
    )


def _liked_by(user) -> Exists:
    """`liked_by_me` of each post (false for anonymous readers): one EXISTS in the post's own query."""
    return Exists(PostLike.objects.filter(post_id=OuterRef("pk"), user_id=getattr(user, "pk", None) or 0))


FEED_AUTHOR_FIELDS = ("id", "username", "nickname", "member_no", "avatar_url")
FEED_POST_FIELDS = (
    "id",
    "circle_id",
    "author",
    "kind",
    "title",
    "body",
    "images",
    "tags",
    "status",
    "is_pinned",
    "is_featured",
    "featured_at",
    "question_id",
    "is_answered",
    "like_count",
    "comment_count",
    "tip_count",
    "tip_total_fen",
    "created_at",
)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def feed_count(*, circle: Circle, feed: str, tag: str = "", q: str = "", queryset: QuerySet[Post]) -> int:
    """The newest and featured feeds read the exact counters kept on the circle (no COUNT over 100k rows)."""
    if not tag and not q:
        if feed == "newest":
            return circle.visible_post_count
        if feed == "featured":
            return circle.featured_post_count
    return queryset.order_by().count()


def feed_page(
    *,
    circle: Circle,
    user,
    feed: str = "newest",
    page: int = 1,
    tag: str = "",
    q: str = "",
    page_size: int = FEED_PAGE_SIZE,
) -> tuple[list[Post], int]:
    feed = feed if feed in FEEDS else "newest"
    page = feed_page_number(page)
    tag, q = search_term(tag, max_chars=20), search_term(q, max_chars=50)
    queryset = feed_queryset(circle=circle, user=user, feed=feed, tag=tag, q=q)
    start = (page - 1) * page_size
    posts = list(queryset[start : start + page_size])
    return posts, feed_count(circle=circle, feed=feed, tag=tag, q=q, queryset=queryset)


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
_FEED_FILTERS = {
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
    from members.models import User

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
    """A row of `_feed_statement` (or its ORM twin) as a dict with an `author` dict and `liked_by_me`.

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
    from django.utils.dateparse import parse_datetime

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
    from django.db import connection

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
    from django.db import connection
    from django.http import Http404

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


_PRIVATE_TITLE_KINDS = (Post.Kind.QUESTION, Post.Kind.ANSWER)


def preview_posts(*, circle: Circle, limit: int = 3) -> list[dict]:
    """What a non-member sees: titles of featured (or newest) posts and their counts — never a body.
    An untitled post shows only what kind of post it is."""
    posts = (
        Post.objects.filter(circle_id=circle.pk, status=Post.Status.VISIBLE)
        .order_by("-is_featured", "-created_at", "-id")
        .select_related("author")
        .only("title", "kind", "like_count", "comment_count", *(f"author__{f}" for f in FEED_AUTHOR_FIELDS))[
            :limit
        ]
    )
    return [
        {
            # Questions and answers are titled from the (paid) question's text: only their kind shows.
            "title": (post.title if post.kind not in _PRIVATE_TITLE_KINDS else "")
            or _("一条%(kind)s（加入后可见）") % {"kind": post.get_kind_display()},
            "author": post.author.display_name,
            "kind": post.get_kind_display(),
            "like_count": post.like_count,
            "comment_count": post.comment_count,
        }
        for post in posts
    ]


def post_get_for_reader(*, post_id, user) -> tuple[Post, CircleAccess]:
    """A post the user may read, or Http404 (content never leaks to non-members)."""
    from django.http import Http404

    post = (
        Post.objects.select_related("circle", "author", "question")
        .annotate(liked_by_me=_liked_by(user))
        .filter(pk=post_id, circle__is_published=True)
        .first()
    )
    if post is None:
        raise Http404
    access = circle_access(user, post.circle)
    if not access.can_read:
        raise Http404
    if post.status != Post.Status.VISIBLE and not (access.can_manage or post.author_id == user.pk):
        raise Http404
    return post, access


def comments_for_post(*, post: Post, user) -> QuerySet[Comment]:
    """Top-level comments the reader may see (visible ones plus their own pending ones), oldest first.

    A popular post has thousands: callers take a page of this and hang the replies on it with
    `with_replies` (one more statement), never the whole thread."""
    return (
        Comment.objects.filter(_comment_visible_to(user), post=post, parent__isnull=True)
        .select_related("author")
        .order_by("created_at", "id")
    )


def with_replies(page: QuerySet[Comment], *, user) -> list[Comment]:
    """A page (a slice) of `comments_for_post` with `reply_list` attached to each comment — visible
    replies plus the reader's own pending ones, oldest first — read together in one statement."""
    page_ids = page.values("pk")
    rows = list(
        Comment.objects.filter(Q(pk__in=page_ids) | (_comment_visible_to(user) & Q(parent_id__in=page_ids)))
        .select_related("author")
        .order_by("created_at", "id")
    )
    top = [row for row in rows if row.parent_id is None]
    by_parent: dict[int, list[Comment]] = {row.pk: [] for row in top}
    for row in rows:
        if row.parent_id is not None and row.parent_id in by_parent:
            by_parent[row.parent_id].append(row)
    for row in top:
        row.reply_list = by_parent[row.pk]
    return top


def comment_page_number(*, comment: Comment, user, per_page: int) -> int:
    """The page of `comments_for_post` that shows `comment` (a reply shows on its parent's page)."""
    top = comment.parent if comment.parent_id else comment
    before = (
        comments_for_post(post=top.post, user=user)
        .filter(Q(created_at__lt=top.created_at) | Q(created_at=top.created_at, id__lt=top.pk))
        .count()
    )
    return before // per_page + 1


def _comment_visible_to(user) -> Q:
    visible = Q(status=Comment.Status.VISIBLE)
    if getattr(user, "pk", None):
        visible |= Q(author_id=user.pk, status=Comment.Status.REVIEW)
    return visible


def answers_for_question(*, post: Post, user=None) -> list[Post]:
    return list(
        post.answers.filter(status=Post.Status.VISIBLE)
        .select_related("author")
        .annotate(liked_by_me=_liked_by(user))
        .order_by("created_at", "id")
    )


# ---- members, leaderboard, stats -----------------------------------------------------------------------


ROLE_ORDER = (Role.OWNER, Role.ADMIN, Role.GUEST, Role.MEMBER, Role.TRIAL, Role.EXPIRED)


def members_for_managers(
    *, circle: Circle, role: str = "", status: str = "", expiring_within_days: int | None = None
):
    """Members for owners and admins: by role (owner, admins, guests, members, trials, expired), then
    soonest expiry first. `expiring_within_days` keeps active paying members and trials whose time runs
    out within that many days (renewal care)."""
    from django.db.models import Case, IntegerField, Value, When

    rank = Case(
        *(When(role=value, then=Value(i)) for i, value in enumerate(ROLE_ORDER)),
        default=Value(len(ROLE_ORDER)),
        output_field=IntegerField(),
    )
    members = (
        CircleMembership.objects.filter(circle=circle)
        .select_related("user")
        .only(
            "id",
            "circle",
            "user",
            "role",
            "status",
            "joined_at",
            "expires_at",
            "via_tier",
            "removed_with_refund",
            "rejoin_allowed",
            *(f"user__{f}" for f in FEED_AUTHOR_FIELDS),
        )
        .annotate(role_rank=rank)
        .order_by("role_rank", F("expires_at").asc(nulls_last=True), "id")
    )
    if role in Role.values:
        members = members.filter(role=role)
    if status in MStatus.values:
        members = members.filter(status=status)
    if expiring_within_days is not None:
        now = timezone.now()
        members = members.filter(
            status=MStatus.ACTIVE,
            role__in=(Role.MEMBER, Role.TRIAL),
            via_tier=False,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=expiring_within_days),
        ).order_by("expires_at", "id")
    return members


def expiring_soon(*, circle: Circle):
    return members_for_managers(
        circle=circle, expiring_within_days=CircleSettings.current().expiring_soon_days
    )


def guests_of(*, circle: Circle) -> list:
    return [
        m.user
        for m in CircleMembership.objects.filter(circle=circle, role=Role.GUEST, status=MStatus.ACTIVE)
        .select_related("user")
        .only("id", *(f"user__{f}" for f in FEED_AUTHOR_FIELDS))
        .order_by("joined_at", "id")
    ]


def moderation_queue(*, circle: Circle | None = None):
    posts = Post.objects.filter(status=Post.Status.REVIEW).select_related("author", "circle")
    comments = Comment.objects.filter(status=Comment.Status.REVIEW).select_related("author", "post__circle")
    if circle is not None:
        posts = posts.filter(circle=circle)
        comments = comments.filter(post__circle=circle)
    return posts.order_by("created_at", "id"), comments.order_by("created_at", "id")


PERIODS = {"7d": 7, "30d": 30, "all": None}


def leaderboard(*, circle: Circle, period: str = "7d", limit: int = 100) -> list[dict]:
    """Top contributors (KOLs) by posts, likes received (not their own), posts featured and tips
    received in the last 7 / 30 days or all time. A fixed 5 queries whatever the circle holds."""
    days = PERIODS.get(period, 7)
    since = timezone.now() - timedelta(days=days) if days else None
    posts = Post.objects.filter(circle=circle, status=Post.Status.VISIBLE)
    # likes of one's own posts do not count
    likes = PostLike.objects.filter(post__circle=circle, post__status=Post.Status.VISIBLE).exclude(
        user_id=F("post__author_id")
    )
    tips = TipIntent.objects.filter(circle=circle, status=TipIntent.Status.PAID)
    written, featured = Q(), Q(is_featured=True)
    if since:
        # posts written in the period, and posts made 精华 in the period (whenever they were written)
        written, featured = Q(created_at__gte=since), Q(is_featured=True, featured_at__gte=since)
        posts = posts.filter(written | featured)
        likes = likes.filter(created_at__gte=since)
        tips = tips.filter(paid_at__gte=since)
    scores: dict[int, dict] = {}

    def row(uid: int) -> dict:
        return scores.setdefault(
            uid, {"user_id": uid, "posts": 0, "likes": 0, "featured": 0, "tips_fen": 0, "tips": 0}
        )

    counted = posts.values("author_id").annotate(
        n=Count("id", filter=written), f=Count("id", filter=featured)
    )
    for item in counted:
        r = row(item["author_id"])
        r["posts"], r["featured"] = item["n"], item["f"]
    for item in likes.values("post__author_id").annotate(n=Count("id")):
        row(item["post__author_id"])["likes"] = item["n"]
    for item in tips.values("recipient_id").annotate(n=Count("id"), s=Sum("amount_fen")):
        r = row(item["recipient_id"])
        r["tips"], r["tips_fen"] = item["n"], item["s"] or 0
    for r in scores.values():
        # Weighted contribution score: featured posts and tips count most.
        r["score"] = r["posts"] * 2 + r["likes"] + r["featured"] * 10 + r["tips"] * 5
    ranked = sorted(scores.values(), key=lambda r: (-r["score"], r["user_id"]))[:limit]
    from members.models import User

    users = User.objects.only(*FEED_AUTHOR_FIELDS).in_bulk([r["user_id"] for r in ranked])
    roles = dict(
        CircleMembership.objects.filter(circle=circle, user_id__in=users.keys()).values_list(
            "user_id", "role"
        )
    )
    if circle.owner_id in users:
        roles[circle.owner_id] = Role.OWNER
    for position, r in enumerate(ranked, start=1):
        r["rank"] = position
        r["user"] = users.get(r["user_id"])
        r["nickname"] = r["user"].display_name if r["user"] else ""
        r["role"] = roles.get(r["user_id"], "")
    return ranked


@dataclass(frozen=True)
class CircleStats:
    members: int  # paying members, trials and staff active now
    tier_members: int  # members who came in through their membership tier, with that tier still active
    trials: int
    guests: int
    joined: int  # first-time and returning joins in the period
    renewed: int
    base: int  # paying members at the start of the period
    churned: int  # of `base`: left + removed + lapsed by the end of the period
    left: int
    removed: int
    lapsed: int  # paid time ran out without renewing
    churn_bp: int  # 退群率 = churned / base
    posts: int
    posts_per_day: float
    tips_count: int
    tips_fen: int
    days: int


def circle_stats(*, circle: Circle, days: int = 30, now: datetime | None = None) -> CircleStats:
    """An owner's numbers for the last `days` days (ending `now`), in at most 7 queries.

    Churn (退群率): of the members who were paying at the start of the period (a paid, not refunded
    purchase covering that moment, and not left or removed before it), the share who by the end have
    left, been removed, or let their paid time run out without renewing. Trials, staff without a
    purchase and tier-included members are not paying members; a member who left and came back
    within the period is not churned.
    """
    from members.models import Membership

    now = now or timezone.now()
    start = now - timedelta(days=days)
    Kind = CircleMembershipEvent.Kind
    active = CircleMembership.objects.filter(circle=circle, status=MStatus.ACTIVE)
    lowest_rank = circle.included_in_tiers.order_by("rank").values_list("rank", flat=True).first()
    tier_active = Exists(
        Membership.objects.filter(
            user_id=OuterRef("user_id"),
            starts_at__lte=now,
            ends_at__gt=now,
            tier__rank__gte=lowest_rank if lowest_rank is not None else 2**31,
        )
    )
    now_counts = active.aggregate(
        members=Count(
            "id",
            filter=Q(role__in=CircleMembership.STAFF_ROLES) | Q(via_tier=False, expires_at__gt=now),
        ),
        trials=Count("id", filter=Q(role=Role.TRIAL, expires_at__gt=now)),
        guests=Count("id", filter=Q(role=Role.GUEST)),
    )
    tier_members = (
        active.filter(via_tier=True)
        .exclude(role__in=CircleMembership.STAFF_ROLES)
        .filter(tier_active)
        .count()
        if lowest_rank is not None
        else 0
    )
    paying_at_start = Exists(
        CircleGrant.objects.filter(
            membership_id=OuterRef("pk"), revoked_at__isnull=True, created_at__lte=start, expires_at__gt=start
        )
    )
    churn = (
        CircleMembership.objects.filter(circle=circle)
        .exclude(user_id=circle.owner_id)
        .filter(paying_at_start)
        .exclude(Q(status=MStatus.LEFT, left_at__lt=start) | Q(status=MStatus.REMOVED, removed_at__lt=start))
        .aggregate(
            base=Count("id"),
            left=Count("id", filter=Q(status=MStatus.LEFT)),
            removed=Count("id", filter=Q(status=MStatus.REMOVED)),
            lapsed=Count(
                "id",
                filter=Q(status=MStatus.ACTIVE, expires_at__lte=now)
                & ~Q(role__in=CircleMembership.STAFF_ROLES),
            ),
        )
    )
    churned = churn["left"] + churn["removed"] + churn["lapsed"]
    events = CircleMembershipEvent.objects.filter(
        circle=circle, created_at__gte=start, created_at__lt=now
    ).aggregate(
        joined=Count("id", filter=Q(kind=Kind.JOINED)),
        renewed=Count("id", filter=Q(kind=Kind.RENEWED)),
    )
    posts = Post.objects.filter(
        circle=circle, created_at__gte=start, created_at__lt=now, status=Post.Status.VISIBLE
    ).count()
    tips = TipIntent.objects.filter(
        circle=circle, status=TipIntent.Status.PAID, paid_at__gte=start, paid_at__lt=now
    ).aggregate(n=Count("id"), s=Sum("amount_fen"))
    return CircleStats(
        members=now_counts["members"],
        tier_members=tier_members,
        trials=now_counts["trials"],
        guests=now_counts["guests"],
        joined=events["joined"],
        renewed=events["renewed"],
        base=churn["base"],
        churned=churned,
        left=churn["left"],
        removed=churn["removed"],
        lapsed=churn["lapsed"],
        churn_bp=churned * 10_000 // churn["base"] if churn["base"] else 0,
        posts=posts,
        posts_per_day=round(posts / days, 2) if days else 0,
        tips_count=tips["n"] or 0,
        tips_fen=tips["s"] or 0,
        days=days,
    )


def paid_questions_for_user(*, user, role: str = ""):
    """Paid questions the user asked (`asked`), must answer (`to_answer`), or both; newest first."""
    if role == "asked":
        rows = PaidQuestion.objects.filter(asker=user)
    elif role == "to_answer":
        rows = PaidQuestion.objects.filter(guest=user).exclude(status=PaidQuestion.Status.CREATED)
    else:
        rows = PaidQuestion.objects.filter(
            Q(asker=user) | (Q(guest=user) & ~Q(status=PaidQuestion.Status.CREATED))
        )
    return rows.select_related("asker", "guest").order_by("-created_at", "-id")


def paid_questions_due(*, now: datetime):
    return PaidQuestion.objects.filter(status=PaidQuestion.Status.OPEN, deadline__lte=now)
