"""Paid questions (付费问答) a member asks a circle's guest: asking (paid through orders, item type
`circle_question`), answering before the deadline, the guest's fee released on a visible answer,
and the refund when nobody answers in time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleMembership, CircleSettings, PaidQuestion, Post
from circles.selectors.access import circle_access
from circles.services.content import status_after_content_check
from circles.services.notifications import notify_member
from circles.services.permissions import require_poster
from circles.services.posts import MAX_BODY_CHARS, post_became_visible
from circles.text import plain_text
from core.errors import ApplicationError
from core.money import apply_bp
from payments import items
from payments.models import Earning, Order
from payments.orders.refunds import refund_system_request
from payments.wallet import earnings

Role = CircleMembership.Role
logger = logging.getLogger(__name__)


def paid_question_create(*, circle: Circle, asker, guest, body: str) -> PaidQuestion:
    """A member asks a guest; paid through orders (item type `circle_question`).

    The text is checked here, before payment: the verdict is kept on the row so the paid transaction
    never calls WeChat (a `review` question is published into the moderation queue once paid).
    """
    require_poster(asker, circle)
    if not circle.qa_enabled or circle.qa_price_fen <= 0:
        raise ApplicationError("qa_unavailable", _("该圈子未开放付费问答"))
    if guest.pk == asker.pk:
        raise ApplicationError("invalid", _("不能向自己提问"), fields={"guest_id": [_("不能向自己提问")]})
    guest_access = circle_access(guest, circle)
    if guest_access.role not in (Role.GUEST, Role.OWNER) or not guest_access.can_read:
        raise ApplicationError("invalid", _("只能向圈主或嘉宾提问"), fields={"guest_id": [_("不是嘉宾")]})
    body = plain_text(body)
    if not body or len(body) > 2000:
        raise ApplicationError("invalid", _("问题不能为空且不超过 2000 字"), fields={"body": [_("必填")]})
    status = status_after_content_check(user=asker, text=body)
    return PaidQuestion.objects.create(
        circle=circle,
        asker=asker,
        guest=guest,
        body=body,
        price_fen=circle.qa_price_fen,
        needs_review=status == Post.Status.REVIEW,
    )


def paid_question_fulfil(*, order) -> PaidQuestion:
    """Inside the paid transaction: publish the question post and start the guest's answer deadline."""
    question = (
        PaidQuestion.objects.select_for_update(of=("self",))
        .select_related("circle", "asker", "guest")
        .get(pk=int(order.item_id))
    )
    if question.order_no == order.order_no or question.status != PaidQuestion.Status.CREATED:
        if question.order_no != order.order_no:
            logger.warning("paid question %s paid again by %s", question.pk, order.order_no)
        return question
    now = order.paid_at or timezone.now()
    status = Post.Status.REVIEW if question.needs_review else Post.Status.VISIBLE
    post = Post.objects.create(
        circle=question.circle,
        author=question.asker,
        kind=Post.Kind.QUESTION,
        title=_("向 %(guest)s 提问") % {"guest": question.guest.display_name},
        body=question.body,
        status=status,
    )
    if status == Post.Status.VISIBLE:
        post_became_visible(post)
    question.status = PaidQuestion.Status.OPEN
    question.order_no = order.order_no
    question.paid_at = now
    question.deadline = now + timedelta(days=question.circle.qa_answer_days)
    question.post = post
    question.save()
    notify_member(
        user=question.guest,
        kind="circle_question",
        title=_("%(who)s 向你付费提问") % {"who": question.asker.display_name},
        body=_("请在 %(date)s 前回答：%(q)s")
        % {"date": timezone.localtime(question.deadline).strftime("%m-%d %H:%M"), "q": question.body[:40]},
        url=f"/circles/posts/{post.pk}/",
        subscribe=True,
    )
    return question


def _paid_question_release(*, question: PaidQuestion, now: datetime) -> None:
    """The answer is visible: accrue the fee (less the platform fee) to the guest, held like a commission.

    Called with the question row locked. Idempotent on the ledger key.
    """
    order = Order.objects.get(order_no=question.order_no)
    fee_bp = CircleSettings.current().qa_platform_fee_bp
    share = apply_bp(order.amount_fen - order.refunded_fen, 10_000 - fee_bp)
    question.status = PaidQuestion.Status.ANSWERED
    if share > 0:
        earning = earnings.earning_accrue(
            user=question.guest,
            amount_fen=share,
            source="qa_fee",
            idempotency_key=f"qa:{order.order_no}",
            hold_until=now + items.get(order.item_type).refund_window,
            order=order,
            description=_("付费问答：%(circle)s") % {"circle": question.circle.name},
        )
        question.earning_id = earning.pk
    question.save(update_fields=["status", "earning_id"])
    notify_member(
        user=question.asker,
        kind="circle_answer",
        title=_("%(who)s 回答了你的问题") % {"who": question.guest.display_name},
        body=question.body[:60],
        url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
        subscribe=True,
    )


def paid_question_answer(*, question: PaidQuestion, user, body: str) -> PaidQuestion:
    """The guest answers before the deadline. A visible answer releases the fee to the guest at once;
    an answer held for review releases it when a moderator approves it (rejected → the question is
    open again, and refunded by the sweep if the deadline passes)."""
    if question.guest_id != user.pk:
        raise ApplicationError("not_found", _("问题不存在"), status_code=404)
    circle = question.circle
    require_poster(user, circle)
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("回答不能为空"), fields={"body": [_("必填")]})
    if len(body) > MAX_BODY_CHARS:
        raise ApplicationError("invalid", _("内容过长"), fields={"body": [_("内容过长")]})
    status = status_after_content_check(user=user, text=body)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            PaidQuestion.objects.select_for_update(of=("self",))
            .select_related("circle", "asker", "guest")
            .get(pk=question.pk)
        )
        if locked.status in (PaidQuestion.Status.ANSWERED, PaidQuestion.Status.REVIEW):
            raise ApplicationError("already_answered", _("已经回答过了"), status_code=409)
        if locked.status != PaidQuestion.Status.OPEN or (locked.deadline and locked.deadline <= now):
            raise ApplicationError("question_expired", _("已超过回答期限，费用已退回提问者"), status_code=409)
        answer = Post.objects.create(
            circle=circle,
            author=user,
            kind=Post.Kind.ANSWER,
            title=_("回答：%(q)s") % {"q": locked.body[:30]},
            body=body,
            status=status,
            question=locked.post,
        )
        locked.answered_at = now
        locked.answer_post = answer
        locked.save(update_fields=["answered_at", "answer_post"])
        if status == Post.Status.VISIBLE:
            post_became_visible(answer)
            _paid_question_release(question=locked, now=now)
        else:
            locked.status = PaidQuestion.Status.REVIEW
            locked.save(update_fields=["status"])
    return locked


def paid_answer_moderated(*, post: Post, approved: bool) -> None:
    """A moderator decided on an answer held for review (called with the post locked)."""
    question = (
        PaidQuestion.objects.select_for_update(of=("self",))
        .select_related("circle", "asker", "guest")
        .filter(answer_post_id=post.pk, status=PaidQuestion.Status.REVIEW)
        .first()
    )
    if question is None:
        return
    if approved:
        _paid_question_release(question=question, now=timezone.now())
        return
    question.status = PaidQuestion.Status.OPEN
    question.answer_post = None
    question.answered_at = None
    question.save(update_fields=["status", "answer_post", "answered_at"])
    notify_member(
        user=question.guest,
        kind="circle_answer_rejected",
        title=_("你的回答未通过审核，请在期限内重新回答"),
        body=question.body[:60],
        url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
    )


def paid_question_revoke(*, order, refund) -> None:
    """A refund of a paid question (sweep, operator, or the asker before an answer) voids or claws
    back the guest's share in proportion."""
    question = PaidQuestion.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    if question is None:
        return
    fully = order.refunded_fen >= order.amount_fen
    if question.earning_id:
        earning = Earning.objects.get(pk=question.earning_id)
        remaining = earning.amount_fen - earning.reversed_fen
        amount = (
            remaining if fully else min(remaining, earning.amount_fen * refund.amount_fen // order.amount_fen)
        )
        if amount > 0:
            earnings.earning_reverse(
                earning=earning,
                amount_fen=amount,
                idempotency_key=f"qa-refund:{refund.out_refund_no}",
                reason=_("付费问答已退款"),
            )
    if fully and question.status in (
        PaidQuestion.Status.OPEN,
        PaidQuestion.Status.REVIEW,
        PaidQuestion.Status.EXPIRED,
    ):
        question.status = PaidQuestion.Status.REFUNDED
        question.save(update_fields=["status"])


def paid_question_expire(*, question_id: int, now: datetime | None = None) -> bool:
    """An unanswered paid question past its deadline: refund the asker in full (the WeChat refund is
    submitted after commit) and mark it; `paid_question_revoke` marks it refunded when WeChat confirms."""
    now = now or timezone.now()
    with transaction.atomic():
        question = (
            PaidQuestion.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=question_id, status=PaidQuestion.Status.OPEN, deadline__lte=now)
            .first()
        )
        if question is None:
            return False
        order = Order.objects.get(order_no=question.order_no)
        if order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            try:
                refund_system_request(
                    order=order,
                    reason=_("嘉宾未在期限内回答，自动退款"),
                    cause=f"paid_question_expired:{question.pk}",
                )
            except ApplicationError as exc:
                if exc.code != "refund_in_progress":  # an operator's refund already covers it
                    raise
        question.status = PaidQuestion.Status.EXPIRED
        question.save(update_fields=["status"])
        notify_member(
            user=question.asker,
            kind="circle_question_refund",
            title=_("你的付费提问未获回答，已自动退款"),
            body=question.body[:60],
            url=f"/circles/posts/{question.post_id}/" if question.post_id else "",
            subscribe=True,
        )
    return True
