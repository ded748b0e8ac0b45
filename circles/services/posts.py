"""Posts in a circle: publishing, deleting, pinning and featuring (精华), likes, and the visible-post
counters kept on the circle with F() expressions so concurrent writes keep them exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, PaidQuestion, Post, PostLike
from circles.services.content import status_after_content_check
from circles.services.notifications import notify_member
from circles.services.permissions import require_manager, require_moderator, require_poster, require_reader
from circles.text import plain_text
from core.audit import audit_record
from core.errors import ApplicationError
from core.images import store_images, validate_images

MAX_IMAGES = 9


MAX_BODY_CHARS = 10_000


MAX_TAGS = 5


def clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.replace("，", ",").replace("#", ",").split(",")
    cleaned = []
    for tag in tags or []:
        tag = plain_text(tag)[:20]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError(
            "too_many_tags", _("最多 %(n)s 个标签") % {"n": MAX_TAGS}, fields={"tags": [_("标签过多")]}
        )
    return cleaned


# Far enough for a season's announcements; further ahead is more likely a typo in the year.
MAX_AHEAD = timedelta(days=180)


def publish_time_check(publish_at: datetime, *, now: datetime | None = None) -> datetime:
    """A publish time in the future (within MAX_AHEAD), or 400 `invalid` on `publish_at`."""
    now = now or timezone.now()
    if timezone.is_naive(publish_at):
        publish_at = timezone.make_aware(publish_at)
    if publish_at <= now:
        raise ApplicationError(
            "invalid", _("定时发布时间须晚于现在"), fields={"publish_at": [_("请选择以后的时间")]}
        )
    if publish_at > now + MAX_AHEAD:
        raise ApplicationError(
            "invalid",
            _("定时发布最多提前 %(days)s 天") % {"days": MAX_AHEAD.days},
            fields={"publish_at": [_("时间太远")]},
        )
    return publish_at


def scheduled_status(checked_status: str) -> str:
    """The status a post written for later gets from the content check: held for review stays held."""
    return Post.Status.SCHEDULED if checked_status == Post.Status.VISIBLE else checked_status


def post_became_visible(post: Post) -> None:
    Circle.objects.filter(pk=post.circle_id).update(visible_post_count=F("visible_post_count") + 1)
    if post.is_featured:
        Circle.objects.filter(pk=post.circle_id).update(featured_post_count=F("featured_post_count") + 1)
    if post.kind == Post.Kind.ANSWER and post.question_id:
        Post.objects.filter(pk=post.question_id, is_answered=False).update(is_answered=True)


def _post_left_visible(post: Post) -> None:
    Circle.objects.filter(pk=post.circle_id).update(visible_post_count=F("visible_post_count") - 1)
    if post.is_featured:
        Circle.objects.filter(pk=post.circle_id).update(featured_post_count=F("featured_post_count") - 1)


def post_create(
    *,
    circle: Circle,
    author,
    body: str,
    kind: str = Post.Kind.TALK,
    title: str = "",
    tags=(),
    images=(),
    question: Post | None = None,
    publish_at: datetime | None = None,
    pinned: bool = False,
) -> Post:
    """Publish a post (rules accepted first). Text passes the content check: review → moderation queue.

    `publish_at` (定时发布) and `pinned` (an announcement, 公告) are for the circle's owner and admins:
    a scheduled post is written now and published by circles.services.scheduling at its time."""
    require_poster(author, circle)
    if publish_at is not None or pinned:
        require_manager(author, circle)
    if publish_at is not None:
        if kind == Post.Kind.ANSWER:
            raise ApplicationError(
                "invalid", _("回答不能定时发布"), fields={"publish_at": [_("回答不能定时发布")]}
            )
        publish_at = publish_time_check(publish_at)
    body = plain_text(body)
    title = plain_text(title)
    if kind not in Post.Kind.values:
        raise ApplicationError("invalid", _("无效的帖子类型"), fields={"kind": [_("无效的帖子类型")]})
    if not body:
        raise ApplicationError("invalid", _("内容不能为空"), fields={"body": [_("必填")]})
    if len(body) > MAX_BODY_CHARS or len(title) > 120:
        raise ApplicationError("invalid", _("内容过长"), fields={"body": [_("内容过长")]})
    if kind == Post.Kind.ANSWER:
        if question is None or question.circle_id != circle.pk or question.kind != Post.Kind.QUESTION:
            raise ApplicationError("invalid", _("请选择要回答的问题"), fields={"question": [_("问题不存在")]})
        if question.status != Post.Status.VISIBLE:
            raise ApplicationError("invalid", _("问题不存在"), fields={"question": [_("问题不存在")]})
        if PaidQuestion.objects.filter(post_id=question.pk).exists():
            # the asked guest answers through paid_question_answer, which releases the fee
            raise ApplicationError(
                "paid_question",
                _("付费提问只能由被提问的嘉宾在问题页回答"),
                fields={"question": [_("付费提问")]},
            )
    elif question is not None:
        question = None
    tags = clean_tags(tags)
    checked = validate_images(images, max_count=MAX_IMAGES)
    status = status_after_content_check(user=author, text=f"{title}\n{body}\n{' '.join(tags)}")
    if publish_at is not None:
        status = scheduled_status(status)
    names = store_images(checked, folder="circles/posts")
    with transaction.atomic():
        post = Post.objects.create(
            circle=circle,
            author=author,
            kind=kind,
            title=title,
            body=body,
            tags=tags,
            images=names,
            status=status,
            question=question,
            publish_at=publish_at,
            is_pinned=pinned,
        )
        if status == Post.Status.VISIBLE:
            post_became_visible(post)
        if publish_at is not None or pinned:
            audit_record(
                actor=author,
                action="circle_post_schedule",
                target=post,
                summary=f"{circle.name}: {publish_at:%Y-%m-%d %H:%M}" if publish_at else circle.name,
                publish_at=publish_at.isoformat() if publish_at else "",
                pinned=pinned,
            )
    return post


def post_delete(*, post: Post, actor) -> Post:
    """The author or a circle manager deletes a post."""
    if post.author_id != actor.pk:
        require_manager(actor, post.circle)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        if locked.status == Post.Status.DELETED:
            return locked
        was_visible = locked.status == Post.Status.VISIBLE
        locked.status = Post.Status.DELETED
        locked.save(update_fields=["status", "updated_at"])
        if was_visible:
            _post_left_visible(locked)
    return locked


def post_set_flags(*, post: Post, actor, pinned: bool | None = None, featured: bool | None = None) -> Post:
    """Pin or feature (精华) a post: circle owners and admins, and platform operators (from admin).
    Each change is in the audit log."""
    require_moderator(actor, post.circle)
    with transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        fields = ["updated_at"]
        if pinned is not None and locked.is_pinned != pinned:
            locked.is_pinned = pinned
            fields.append("is_pinned")
        if featured is not None and locked.is_featured != featured:
            locked.is_featured = featured
            locked.featured_at = timezone.now() if featured else None
            fields += ["is_featured", "featured_at"]
            if locked.status == Post.Status.VISIBLE:
                delta = 1 if featured else -1
                Circle.objects.filter(pk=locked.circle_id).update(
                    featured_post_count=F("featured_post_count") + delta
                )
            if featured:
                notify_member(
                    user=locked.author,
                    kind="circle_featured",
                    title=_("你的帖子被设为精华"),
                    body=locked.title or locked.body[:40],
                    url=f"/circles/posts/{locked.pk}/",
                )
        locked.save(update_fields=fields)
        if len(fields) > 1:
            audit_record(
                actor=actor,
                action="circle_post_flags",
                target=locked,
                summary=f"{post.circle.name}: pinned={locked.is_pinned} featured={locked.is_featured}",
                pinned=locked.is_pinned,
                featured=locked.is_featured,
            )
    return locked


def post_like(*, post: Post, user) -> bool:
    """Like once (unique per user); returns True when this call added the like. Counter via F()."""
    require_reader(user, post.circle)
    if post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("帖子不存在"), status_code=404)
    try:
        with transaction.atomic():
            PostLike.objects.create(post=post, user=user)
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    except IntegrityError:
        return False
    return True


def post_unlike(*, post: Post, user) -> bool:
    require_reader(user, post.circle)
    with transaction.atomic():
        deleted, _rows = PostLike.objects.filter(post=post, user=user).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
    return bool(deleted)
