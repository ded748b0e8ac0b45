"""Moderation of what the content check held for review: approving or rejecting posts and comments
(circle owners and admins, platform operators). Each decision is audited.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Comment, Post
from circles.services.comments import comment_notify
from circles.services.notifications import notify_member
from circles.services.permissions import require_moderator
from circles.services.posts import post_became_visible
from circles.services.questions import paid_answer_moderated
from circles.services.scheduling import publish_locked
from circles.text import plain_text
from core.audit import audit_record


def post_moderate(*, post: Post, actor, approve: bool, note: str = "") -> Post:
    """Approve or reject a post held for review. Approving a paid answer releases the guest's fee;
    rejecting it reopens the question."""
    require_moderator(actor, post.circle)
    note = plain_text(note)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status != Post.Status.REVIEW:
            return locked
        locked.moderation_note = note[:200]
        if approve and locked.publish_at is not None:
            # a scheduled post held by the content check: back to waiting for its time, or — when
            # the time passed during review — published now, with its notification, by the one path
            locked.status = Post.Status.SCHEDULED
            locked.save(update_fields=["status", "moderation_note", "updated_at"])
            if locked.publish_at <= timezone.now():
                locked.publish_at = timezone.now()
                publish_locked(locked)
        else:
            locked.status = Post.Status.VISIBLE if approve else Post.Status.REJECTED
            locked.save(update_fields=["status", "moderation_note", "updated_at"])
            if approve:
                post_became_visible(locked)
        if locked.kind == Post.Kind.ANSWER:
            paid_answer_moderated(post=locked, approved=approve)
        audit_record(actor=actor, action="circle_post_moderate", target=locked, approve=approve, note=note)
    if not approve:
        notify_member(
            user=locked.author,
            kind="circle_post_rejected",
            title=_("你的帖子未通过审核"),
            body=note[:60] or (locked.title or locked.body[:40]),
            url=f"/circles/{locked.circle_id}/",
        )
    return locked


def comment_moderate(*, comment: Comment, actor, approve: bool, note: str = "") -> Comment:
    require_moderator(actor, comment.post.circle)
    note = plain_text(note)
    with transaction.atomic():
        locked = Comment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
        if locked.status != Comment.Status.REVIEW:
            return locked
        locked.status = Comment.Status.VISIBLE if approve else Comment.Status.REJECTED
        locked.moderation_note = note[:200]
        locked.save(update_fields=["status", "moderation_note", "updated_at"])
        if approve:
            Post.objects.filter(pk=locked.post_id).update(comment_count=F("comment_count") + 1)
            comment_notify(comment=locked, post=comment.post)
        audit_record(actor=actor, action="circle_comment_moderate", target=locked, approve=approve, note=note)
    return locked
