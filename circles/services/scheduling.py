"""Scheduled posts (定时发布): a circle's owner or admins write a post — an announcement when pinned —
now, and it appears at `publish_at`.

Until then the post is SCHEDULED, a status no read path shows (feeds, search, the post page, the
API, counters, 我的圈子, stats): only its author sees it, marked 定时发布 with the time, and may edit
or cancel (delete) it. The minute sweep publishes due posts; each publication happens in the one
transaction that moves the post out of SCHEDULED under its row lock — visible, counted, placed in the
feed at its publish time, and the circle's members notified — so a second or concurrent sweep finds
nothing left to do and no member is notified twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import CircleMembership, Post
from circles.services.content import status_after_content_check
from circles.services.notifications import notify_member
from circles.services.permissions import require_manager, require_moderator
from circles.services.posts import (
    MAX_BODY_CHARS,
    clean_tags,
    post_became_visible,
    publish_time_check,
    scheduled_status,
)
from circles.text import plain_text
from core.audit import audit_record
from core.errors import ApplicationError
from members.models import User

# Statuses of a post that has not been published yet and may still be edited or rescheduled: a
# scheduled post, or one the content check held for review before its time.
UNPUBLISHED = (Post.Status.SCHEDULED, Post.Status.REVIEW)


def _require_editor(post: Post, actor) -> None:
    """The author while still a manager of the circle; operators (admin) and the circle's owner and
    admins through moderation rights."""
    if post.author_id == actor.pk:
        require_manager(actor, post.circle)
    else:
        require_moderator(actor, post.circle)


def post_reschedule(
    *,
    post: Post,
    actor,
    publish_at: datetime | None = None,
    title: str | None = None,
    body: str | None = None,
    tags=None,
) -> Post:
    """Edit a post not yet published: its time, title, body or tags (text passes the check again)."""
    _require_editor(post, actor)
    if publish_at is not None:
        publish_at = publish_time_check(publish_at)
    fields: dict[str, object] = {}
    if title is not None:
        fields["title"] = plain_text(title)
    if body is not None:
        fields["body"] = plain_text(body)
        if not fields["body"]:
            raise ApplicationError("invalid", _("内容不能为空"), fields={"body": [_("必填")]})
    if tags is not None:
        fields["tags"] = clean_tags(tags)
    if len(str(fields.get("body", ""))) > MAX_BODY_CHARS or len(str(fields.get("title", ""))) > 120:
        raise ApplicationError("invalid", _("内容过长"), fields={"body": [_("内容过长")]})
    checked = None
    if fields:
        merged = {"title": post.title, "body": post.body, "tags": post.tags, **fields}
        text = f"{merged['title']}\n{merged['body']}\n{' '.join(merged['tags'])}"  # type: ignore[arg-type]
        checked = status_after_content_check(user=post.author, text=text)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status not in UNPUBLISHED or locked.publish_at is None:
            raise ApplicationError("already_published", _("帖子已发布，不能再修改定时"), status_code=409)
        for name, value in fields.items():
            setattr(locked, name, value)
        if publish_at is not None:
            locked.publish_at = publish_at
        if checked is not None:
            locked.status = scheduled_status(checked)
        locked.save(update_fields=[*fields, "publish_at", "status", "updated_at"])
        audit_record(
            actor=actor,
            action="circle_post_reschedule",
            target=locked,
            summary=f"{post.circle.name}: {locked.publish_at:%Y-%m-%d %H:%M}",
            publish_at=locked.publish_at.isoformat(),
        )
    return locked


def post_publish_now(*, post: Post, actor) -> Post:
    """Publish a scheduled post at once (the author, the circle's managers, or an operator)."""
    _require_editor(post, actor)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).select_related("circle").get(pk=post.pk)
        if locked.status != Post.Status.SCHEDULED:
            return locked
        locked.publish_at = timezone.now()
        publish_locked(locked)
        audit_record(actor=actor, action="circle_post_publish_now", target=locked)
    return locked


def publish_locked(post: Post) -> int:
    """Publish a SCHEDULED post the caller has locked, in the caller's transaction; returns how many
    members were notified. Its place in the feed is its publish time: `created_at` becomes
    `publish_at`, since every feed, counter and "new this week" reads when a post appeared."""
    post.status = Post.Status.VISIBLE
    post.created_at = post.publish_at or timezone.now()
    post.save(update_fields=["status", "publish_at", "created_at", "updated_at"])
    post_became_visible(post)
    return _notify_followers(post)


def _notify_followers(post: Post) -> int:
    """One in-site notification to each member in the circle now (not the author). Written in the
    publishing transaction: the post leaves SCHEDULED once, so each member hears of it once."""
    now = timezone.now()
    member_ids = (
        CircleMembership.objects.filter(circle_id=post.circle_id, status=CircleMembership.Status.ACTIVE)
        .exclude(role=CircleMembership.Role.EXPIRED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(user_id=post.author_id)
        .values("user_id")
    )
    circle_name = post.circle.name
    if post.is_pinned:
        title = _("「%(circle)s」发布了新公告") % {"circle": circle_name}
    else:
        title = _("「%(circle)s」有新帖子") % {"circle": circle_name}
    notified = 0
    for user in User.objects.filter(pk__in=member_ids).only("id").order_by("pk").iterator(chunk_size=500):
        notify_member(
            user=user,
            kind="circle_post_published",
            title=title,
            body=post.title or post.body[:40],
            url=f"/circles/posts/{post.pk}/",
        )
        notified += 1
    return notified


def posts_publish_due(*, now: datetime | None = None, limit: int = 50) -> dict[str, int]:
    """The sweep: publish every scheduled post whose time has come, a batch per transaction, rows
    claimed with SKIP LOCKED so two sweeps share the work instead of repeating it."""
    now = now or timezone.now()
    published = notified = 0
    while True:
        with transaction.atomic():
            due = list(
                Post.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("circle")
                .filter(status=Post.Status.SCHEDULED, publish_at__lte=now)
                .order_by("publish_at", "pk")[:limit]
            )
            for post in due:
                notified += publish_locked(post)
            published += len(due)
        if len(due) < limit:
            break
    return {"published": published, "notified": notified}


def post_schedule_cancel(*, post: Post, actor) -> Post:
    """Cancel a post before its time: it is deleted, never having been shown or counted."""
    _require_editor(post, actor)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status not in UNPUBLISHED or locked.publish_at is None:
            raise ApplicationError("already_published", _("帖子已发布，不能取消定时"), status_code=409)
        locked.status = Post.Status.DELETED
        locked.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="circle_post_schedule_cancel", target=locked)
    return locked
