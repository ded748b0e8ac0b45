"""Reading posts through the ORM: the feed pages (newest, featured, unanswered; tag and search), the
preview a non-member sees, one post for a reader and the answers to a question.

The circle page and tag or search requests of the API read the feed here; the API's unfiltered feed
is one hand-written statement in `circles.selectors.feed_sql` (why: its docstring).
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from circles.models import Circle, Post, PostLike
from circles.selectors.access import CircleAccess, circle_access
from circles.text import plain_text

FEED_PAGE_SIZE = 20


FEEDS = ("newest", "featured", "unanswered")


# Far beyond any real circle (20 million posts); a larger page number from a crafted URL would
# overflow PostgreSQL's bigint OFFSET and fail the request instead of showing an empty page.
MAX_FEED_PAGE = 1_000_000


def feed_page_number(page) -> int:
    """A feed page number between 1 and MAX_FEED_PAGE (pages past the last one are simply empty)."""
    return min(MAX_FEED_PAGE, max(1, int(page or 1)))


def search_term(text: str, *, max_chars: int) -> str:
    """A search or tag term as typed (`plain_text`), cut to `max_chars`."""
    return plain_text(text)[:max_chars]


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
            posts = posts.filter(tags__icontains=json.dumps(tag))
    if q:
        posts = posts.filter(Q(title__icontains=q) | Q(body__icontains=q))
    # Only the author columns the feed shows: the encrypted phone is never decrypted for a feed.
    return (
        posts.select_related("author")
        .only(*FEED_POST_FIELDS, *(f"author__{name}" for name in FEED_AUTHOR_FIELDS))
        .annotate(liked_by_me=liked_by_reader(user))
    )


def liked_by_reader(user) -> Exists:
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
    post = (
        Post.objects.select_related("circle", "author", "question")
        .annotate(liked_by_me=liked_by_reader(user))
        .filter(pk=post_id, circle__is_published=True)
        .first()
    )
    if post is None:
        raise Http404
    access = circle_access(user, post.circle)
    if not access.can_read:
        raise Http404
    if post.status == Post.Status.SCHEDULED and post.author_id != user.pk:
        raise Http404  # not published yet: only its author knows it exists, not even co-managers
    if post.status != Post.Status.VISIBLE and not (access.can_manage or post.author_id == user.pk):
        raise Http404
    return post, access


def scheduled_posts_of_author(*, circle: Circle, user) -> list[Post]:
    """The user's posts in the circle still waiting for their publish time (定时发布), soonest first:
    scheduled, or held by the content check before their time. One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Post.objects.filter(
            circle_id=circle.pk,
            author_id=user.pk,
            status__in=(Post.Status.SCHEDULED, Post.Status.REVIEW),
            publish_at__isnull=False,
        )
        .select_related("author")
        .order_by("publish_at", "id")
    )


def answers_for_question(*, post: Post, user=None) -> list[Post]:
    return list(
        post.answers.filter(status=Post.Status.VISIBLE)
        .select_related("author")
        .annotate(liked_by_me=liked_by_reader(user))
        .order_by("created_at", "id")
    )
