"""The moderation queue: posts and comments the content check held for review."""

from __future__ import annotations

from circles.models import Circle, Comment, Post


def moderation_queue(*, circle: Circle | None = None):
    posts = Post.objects.filter(status=Post.Status.REVIEW).select_related("author", "circle")
    comments = Comment.objects.filter(status=Comment.Status.REVIEW).select_related("author", "post__circle")
    if circle is not None:
        posts = posts.filter(circle=circle)
        comments = comments.filter(post__circle=circle)
    return posts.order_by("created_at", "id"), comments.order_by("created_at", "id")
