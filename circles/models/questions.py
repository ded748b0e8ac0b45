"""Paid questions (付费问答) a member asks a circle's guest, answered before a deadline or refunded."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from circles.models.circles import Circle
from circles.models.posts import Post

__all__ = [
    "PaidQuestion",
]


class PaidQuestion(models.Model):
    """A member pays to ask one guest; the answer releases the fee, silence refunds it."""

    class Status(models.TextChoices):
        CREATED = "created", _("待支付")
        OPEN = "open", _("待回答")
        REVIEW = "answer_review", _("回答审核中")
        ANSWERED = "answered", _("已回答")
        EXPIRED = "expired", _("超时退款中")
        REFUNDED = "refunded", _("已退款")

    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="paid_questions", verbose_name=_("圈子")
    )
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="paid_questions",
        verbose_name=_("提问人"),
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="questions_to_answer",
        verbose_name=_("回答嘉宾"),
    )
    body = models.TextField(_("问题"))
    # The content check's verdict at asking time: the question post goes to the moderation queue.
    needs_review = models.BooleanField(_("待审核"), default=False)
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    order_no = models.CharField(_("订单号"), max_length=32, null=True, blank=True, unique=True)
    post = models.OneToOneField(
        Post,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="paid_question",
        verbose_name=_("提问帖"),
    )
    answer_post = models.OneToOneField(
        Post,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="paid_answer_of",
        verbose_name=_("回答帖"),
    )
    deadline = models.DateTimeField(_("回答期限"), null=True, blank=True, db_index=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("回答时间"), null=True, blank=True)
    earning_id = models.BigIntegerField(_("收益记录编号"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("付费提问")
        verbose_name_plural = _("付费提问")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.body[:30]
