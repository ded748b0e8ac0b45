"""Tips (打赏) on posts and comments: the intent a member pays, and its split between author and platform."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from circles.models.circles import Circle
from circles.models.posts import Comment, Post

__all__ = [
    "TipIntent",
]


class TipIntent(models.Model):
    """A tip the tipper is about to pay: the amount and target, created before checkout.

    Its id is the order's item_id (item type `tip`), so the amount travels safely through the
    ordinary checkout without a client-chosen price.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("待支付")
        PAID = "paid", _("已支付")
        REFUNDED = "refunded", _("已退款")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="tips", verbose_name=_("圈子"))
    tipper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tips_given",
        verbose_name=_("打赏人"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tips_received",
        verbose_name=_("收赏人"),
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips", verbose_name=_("帖子")
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips", verbose_name=_("评论")
    )
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    platform_fee_fen = models.PositiveBigIntegerField(_("平台服务费（分）"), default=0)
    author_share_fen = models.PositiveBigIntegerField(_("作者所得（分）"), default=0)
    message = models.CharField(_("留言"), max_length=100, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    order_no = models.CharField(_("订单号"), max_length=32, null=True, blank=True, unique=True)
    earning_id = models.BigIntegerField(_("收益记录编号"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("打赏")
        verbose_name_plural = _("打赏")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="tip_amount_positive"),
            models.CheckConstraint(
                condition=Q(post__isnull=False) | Q(comment__isnull=False), name="tip_has_target"
            ),
        ]

    def __str__(self) -> str:
        return f"tip {self.amount_fen} → {self.recipient_id}"
