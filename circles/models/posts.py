"""Posts, comments and likes in a circle.

Counters on Post/Circle (likes, comments, tips, visible posts) are updated only with F() expressions
in services so concurrent writers keep them exact; the feed reads them without aggregation.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from circles.models.circles import Circle
from core.models import TimeStampedModel

__all__ = [
    "Post",
    "Comment",
    "PostLike",
]


class Post(TimeStampedModel):
    class Kind(models.TextChoices):
        TALK = "talk", _("讨论")
        QUESTION = "question", _("提问")
        HOMEWORK = "homework", _("作业")
        ANSWER = "answer", _("回答")

    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        REVIEW = "review", _("待审核")
        REJECTED = "rejected", _("未通过")
        DELETED = "deleted", _("已删除")
        # Written now, shown at `publish_at` (circles.services.scheduling): every read path shows only
        # VISIBLE posts, so a scheduled one is out of lists, search, counters and notifications.
        SCHEDULED = "scheduled", _("定时发布")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="posts", verbose_name=_("圈子"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_posts",
        verbose_name=_("作者"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.TALK)
    title = models.CharField(_("标题"), max_length=120, blank=True, default="")
    body = models.TextField(_("内容"))
    # Storage names of validated images (kept on the row so the feed needs no extra query).
    images = models.JSONField(_("图片"), default=list, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VISIBLE)
    is_pinned = models.BooleanField(_("置顶"), default=False)
    is_featured = models.BooleanField(_("精华"), default=False)
    featured_at = models.DateTimeField(_("加精时间"), null=True, blank=True)
    question = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("回答的问题"),
    )
    is_answered = models.BooleanField(_("已回答"), default=False)
    like_count = models.PositiveIntegerField(_("点赞数"), default=0)
    comment_count = models.PositiveIntegerField(_("评论数"), default=0)
    tip_count = models.PositiveIntegerField(_("打赏次数"), default=0)
    tip_total_fen = models.PositiveBigIntegerField(_("打赏总额（分）"), default=0)
    moderation_note = models.CharField(_("审核备注"), max_length=200, blank=True, default="")
    publish_at = models.DateTimeField(
        _("定时发布时间"),
        null=True,
        blank=True,
        help_text=_("圈主和管理员可定时发布；到时前只有作者可见，发布时向圈内成员发送通知"),
    )

    class Meta:
        verbose_name = _("帖子")
        verbose_name_plural = _("帖子")
        indexes = [
            models.Index(
                fields=["circle", "status", "-is_pinned", "-created_at", "-id"], name="circle_post_feed_idx"
            ),
            models.Index(
                fields=["circle", "-featured_at", "-id"],
                name="circle_post_featured_idx",
                condition=Q(is_featured=True, status="visible"),
            ),
            models.Index(
                fields=["circle", "-created_at", "-id"],
                name="circle_post_unanswered_idx",
                condition=Q(kind="question", is_answered=False, status="visible"),
            ),
            models.Index(fields=["author", "created_at"], name="circle_post_author_idx"),
            models.Index(
                fields=["publish_at", "id"],
                name="circle_post_due_idx",
                condition=Q(status="scheduled"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False),
                name="circle_post_scheduled_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.body[:30]

    @property
    def image_urls(self) -> list[str]:

        return [default_storage.url(name) for name in self.images or []]


class Comment(TimeStampedModel):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        REVIEW = "review", _("待审核")
        REJECTED = "rejected", _("未通过")
        DELETED = "deleted", _("已删除")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments", verbose_name=_("帖子"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_comments",
        verbose_name=_("作者"),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        verbose_name=_("回复"),
    )
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VISIBLE)
    tip_count = models.PositiveIntegerField(_("打赏次数"), default=0)
    tip_total_fen = models.PositiveBigIntegerField(_("打赏总额（分）"), default=0)
    moderation_note = models.CharField(_("审核备注"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "status", "created_at"])]

    def __str__(self) -> str:
        return self.body[:30]


class PostLike(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes", verbose_name=_("帖子"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    created_at = models.DateTimeField(_("点赞时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("点赞")
        verbose_name_plural = _("点赞")
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="uniq_post_like")]
        indexes = [models.Index(fields=["user", "post"])]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.post_id}"
