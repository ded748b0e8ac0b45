"""Tips (打赏) on posts and comments: the intent a member pays through orders (item type `tip`), the
author's share held in the ledger for the refund window, and what a refund takes back.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import CircleSettings, Comment, Post, TipIntent
from circles.services.content import text_verdict
from circles.services.notifications import notify_member
from circles.services.permissions import require_reader
from circles.text import plain_text
from core import content_check
from core.errors import ApplicationError
from core.money import apply_bp, fen_to_yuan_text
from payments import items
from payments.models import Earning
from payments.wallet import earnings


def tip_split(amount_fen: int, *, fee_bp: int | None = None) -> tuple[int, int]:
    """(author share, platform fee): the share is floored, the remainder stays with the platform."""
    fee_bp = CircleSettings.current().tip_platform_fee_bp if fee_bp is None else fee_bp
    share = apply_bp(amount_fen, 10_000 - fee_bp)
    return share, amount_fen - share


def tip_intent_create(
    *, user, amount_fen: int, post: Post | None = None, comment: Comment | None = None, message: str = ""
) -> TipIntent:
    """A tip about to be paid: checks the target and the operator's limits; its id is the order item_id."""
    target: Post | Comment
    if post is not None and comment is None:
        target_post = target = post
    elif comment is not None and post is None:
        target_post, target = comment.post, comment
    else:
        raise ApplicationError("invalid", _("请选择打赏的帖子或评论"))
    require_reader(user, target_post.circle)
    if target.status != "visible" or target_post.status != Post.Status.VISIBLE:
        raise ApplicationError("not_found", _("内容不存在"), status_code=404)
    if target.author_id == user.pk:
        raise ApplicationError("tip_self", _("不能打赏自己"))
    conf = CircleSettings.current()
    amount_fen = int(amount_fen)
    if not conf.tip_min_fen <= amount_fen <= conf.tip_max_fen:
        raise ApplicationError(
            "tip_amount_out_of_range",
            _("打赏金额须在 %(min)s 到 %(max)s 之间")
            % {"min": fen_to_yuan_text(conf.tip_min_fen), "max": fen_to_yuan_text(conf.tip_max_fen)},
            fields={"amount_fen": [_("金额超出范围")]},
        )
    message = plain_text(message)[:100]
    # The message reaches the author: risky text is refused; doubtful text is dropped, the tip stays.
    verdict = text_verdict(user=user, text=message, scene=2) if message else content_check.PASS
    if verdict == content_check.RISKY:
        raise ApplicationError(
            "content_rejected", _("留言包含违规信息"), fields={"message": [_("内容未通过安全检查")]}
        )
    if verdict != content_check.PASS:
        message = ""
    share, fee = tip_split(amount_fen, fee_bp=conf.tip_platform_fee_bp)
    return TipIntent.objects.create(
        circle=target_post.circle,
        tipper=user,
        recipient=target.author,
        post=post,
        comment=comment,
        amount_fen=amount_fen,
        platform_fee_fen=fee,
        author_share_fen=share,
        message=message,
    )


def tip_fulfil(*, order) -> TipIntent:
    """Inside the paid transaction: mark the tip paid, bump counters, accrue the author's held share."""
    existing = TipIntent.objects.filter(order_no=order.order_no).first()
    if existing is not None:
        return existing
    intent = TipIntent.objects.select_for_update(of=("self",)).get(pk=int(order.item_id))
    if intent.status != TipIntent.Status.CREATED:
        # The same intent paid by a second order: that payment is a tip of its own.
        intent.pk = None
        intent.order_no = None
        intent.earning_id = None
    intent.status = TipIntent.Status.PAID
    intent.order_no = order.order_no
    intent.paid_at = order.paid_at or timezone.now()
    if order.amount_fen != intent.amount_fen:  # the fee split shown at intent time applies to its amount
        intent.amount_fen = order.amount_fen
        intent.author_share_fen, intent.platform_fee_fen = tip_split(order.amount_fen)
    intent.save()
    target_model = Post if intent.post_id else Comment
    target_id = intent.post_id or intent.comment_id
    assert target_id is not None  # tip_intent_create sets the post or the comment
    target_model.objects.filter(pk=target_id).update(
        tip_count=F("tip_count") + 1, tip_total_fen=F("tip_total_fen") + intent.amount_fen
    )
    if intent.author_share_fen > 0:
        window = items.get(order.item_type).refund_window_for(order=order)
        earning = earnings.earning_accrue(
            user=intent.recipient,
            amount_fen=intent.author_share_fen,
            source="tip",
            idempotency_key=f"tip:{order.order_no}",
            hold_until=intent.paid_at + window,
            order=order,
            description=_("圈子打赏：%(circle)s") % {"circle": intent.circle.name},
        )
        intent.earning_id = earning.pk
        intent.save(update_fields=["earning_id"])
    notify_member(
        user=intent.recipient,
        kind="circle_tip",
        title=_("%(who)s 打赏了你 %(amount)s")
        % {"who": intent.tipper.display_name, "amount": fen_to_yuan_text(intent.amount_fen)},
        body=_("%(message)s（%(share)s 计入你的收益，退款期过后结算）")
        % {
            "message": intent.message or _("感谢你的分享"),
            "share": fen_to_yuan_text(intent.author_share_fen),
        },
        url="/payments/wallet/",
        subscribe=True,
    )
    return intent


def tip_revoke(*, order, refund) -> None:
    """A refunded tip voids (while held) or claws back (after settlement) the author's share."""
    intent = TipIntent.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    if intent is None:
        return
    fully = order.refunded_fen >= order.amount_fen
    if intent.earning_id:
        earning = Earning.objects.get(pk=intent.earning_id)
        remaining = earning.amount_fen - earning.reversed_fen
        amount = (
            remaining
            if fully
            else min(remaining, intent.author_share_fen * refund.amount_fen // order.amount_fen)
        )
        if amount > 0:
            earnings.earning_reverse(
                earning=earning,
                amount_fen=amount,
                idempotency_key=f"tip-refund:{refund.out_refund_no}",
                reason=_("打赏已退款"),
            )
    if fully and intent.status == TipIntent.Status.PAID:
        intent.status = TipIntent.Status.REFUNDED
        intent.save(update_fields=["status"])
        target_model = Post if intent.post_id else Comment
        target_id = intent.post_id or intent.comment_id
        assert target_id is not None  # tip_intent_create sets the post or the comment
        target_model.objects.filter(pk=target_id, tip_count__gt=0).update(
            tip_count=F("tip_count") - 1, tip_total_fen=F("tip_total_fen") - intent.amount_fen
        )
