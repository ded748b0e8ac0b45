"""Reading a post's comments: a page of top-level comments with their replies, and the page a comment is on."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from circles.models import Comment, Post


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
        row.reply_list = by_parent[row.pk]  # type: ignore[attr-defined]  # read by the templates and API
    return top


def comment_page_number(*, comment: Comment, user, per_page: int) -> int:
    """The page of `comments_for_post` that shows `comment` (a reply shows on its parent's page)."""
    top = comment.parent if comment.parent is not None else comment
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
