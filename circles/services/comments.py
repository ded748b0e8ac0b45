"""Comments on posts: writing one (or a reply, one level deep), telling the authors, deleting."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Comment, Post
from circles.services.content import status_after_content_check
from circles.services.notifications import notify_member
from circles.services.permissions import require_manager, require_poster
from circles.text import plain_text
from core.errors import ApplicationError


def comment_create(*, post: Post, author, body: str, parent: Comment | None = None) -> Comment:
    require_poster(author, post.circle)
    if post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("帖子不存在"), status_code=404)
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("评论不能为空"), fields={"body": [_("必填")]})
    if len(body) > 2000:
        raise ApplicationError("invalid", _("评论过长"), fields={"body": [_("评论过长")]})
    if parent is not None and (parent.post_id != post.pk or parent.status != Comment.Status.VISIBLE):
        raise ApplicationError("invalid", _("回复的评论不存在"), fields={"parent": [_("评论不存在")]})
    if parent is not None and parent.parent_id:
        parent = parent.parent  # one level of nesting: replies to replies join the same thread
    status = status_after_content_check(user=author, text=body, scene=2)
    with transaction.atomic():
        comment = Comment.objects.create(post=post, author=author, parent=parent, body=body, status=status)
        if status == Comment.Status.VISIBLE:
            Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
    if status == Comment.Status.VISIBLE:
        comment_notify(comment=comment, post=post)
    return comment


def comment_notify(*, comment: Comment, post: Post) -> None:
    """Tell the post's author about a comment, and the parent comment's author about a reply."""
    url = f"/circles/posts/{post.pk}/#c{comment.parent_id or comment.pk}"
    who = comment.author.display_name
    if post.author_id != comment.author_id:
        notify_member(
            user=post.author,
            kind="circle_comment",
            title=_("%(who)s 评论了你的帖子") % {"who": who},
            body=comment.body[:60],
            url=url,
        )
    parent = comment.parent
    if parent is not None and parent.author_id not in (comment.author_id, post.author_id):
        notify_member(
            user=parent.author,
            kind="circle_reply",
            title=_("%(who)s 回复了你的评论") % {"who": who},
            body=comment.body[:60],
            url=url,
        )


def comment_delete(*, comment: Comment, actor) -> Comment:
    """The comment's author or a circle manager deletes a comment (its replies go with it)."""
    post = comment.post
    if comment.author_id != actor.pk:
        require_manager(actor, post.circle)
    with transaction.atomic():
        locked = Comment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
        if locked.status == Comment.Status.DELETED:
            return locked
        # the comment and its visible replies leave the count together
        hidden = [locked] if locked.status == Comment.Status.VISIBLE else []
        if locked.parent_id is None:
            hidden += list(
                Comment.objects.select_for_update(of=("self",)).filter(
                    parent_id=locked.pk, status=Comment.Status.VISIBLE
                )
            )
        Comment.objects.filter(pk__in=[c.pk for c in hidden] + [locked.pk]).update(
            status=Comment.Status.DELETED, updated_at=timezone.now()
        )
        if hidden:
            Post.objects.filter(pk=post.pk, comment_count__gte=len(hidden)).update(
                comment_count=F("comment_count") - len(hidden)
            )
        locked.status = Comment.Status.DELETED
    return locked
