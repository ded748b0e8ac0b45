"""Seats in camp terms: joining free or tier-included terms, pricing and fulfilling a paid seat (a
refund when the term filled meanwhile or the member paid twice), revoking a refunded seat, and the
self-service refund window. Seats are counted under the term's row lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, NotEntitled
from courses.camps import selectors as camp_selectors
from courses.ids import item_id_or_unavailable
from courses.member_actions import notify
from courses.models import (
    Source,
    Term,
    TermSeat,
)
from courses.orders import fully_refunded, refund_later, source_for_order, tier_discount_line
from payments import items


def lock_term(term_id: int) -> Term:
    return Term.objects.select_for_update(of=("self",)).get(pk=term_id)


def term_url(term: Term) -> str:
    return reverse("courses:term", args=[term.pk])


class TermFull(ApplicationError):
    def __init__(self):
        super().__init__("term_full", _("本期名额已满"), status_code=409)


def seat_grant(*, term: Term, user, source: str, order_no: str | None = None) -> TermSeat:
    """Give a member a seat in a term (idempotent); reactivates a revoked seat with the new source.

    Seats are counted under the term's row lock: a term with a capacity is never overfilled (TermFull).
    """
    with transaction.atomic():
        term = lock_term(term.pk)
        seat = TermSeat.objects.select_for_update(of=("self",)).filter(term=term, user=user).first()
        if seat is not None and seat.status == TermSeat.Status.ACTIVE:
            if order_no and seat.source == Source.TIER:
                # A tier seat bought for real (e.g. before the membership lapses): the purchase now holds it.
                seat.source, seat.order_no = source, order_no
                seat.save(update_fields=["source", "order_no", "updated_at"])
            return seat
        if term.capacity is not None and camp_selectors.term_seats_taken(term) >= term.capacity:
            raise TermFull()
        if seat is None:
            seat = TermSeat.objects.create(term=term, user=user, source=source, order_no=order_no)
        else:
            seat.status = TermSeat.Status.ACTIVE
            seat.source = source
            seat.order_no = order_no
            seat.revoked_at = None
            seat.save(update_fields=["status", "source", "order_no", "revoked_at", "updated_at"])
    return seat


def term_join(*, user, term: Term) -> TermSeat:
    """Join a term without paying: tier-included camps (while the tier is active) and free camps."""
    with transaction.atomic():
        term = lock_term(term.pk)
        term = camp_selectors.term_get(term_id=term.pk)
        access = camp_selectors.term_access(user, term)
        if access.joined:
            assert access.seat is not None  # a "joined" access carries its seat
            return access.seat
        if access.state == "join_free":
            return seat_grant(term=term, user=user, source=Source.TIER)
        if access.state == "join":
            return seat_grant(term=term, user=user, source=Source.FREE)
        if access.state in ("ended", "full"):
            raise ApplicationError(f"term_{access.state}", access.state_text, status_code=409)
        if access.state == "login":
            raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
        raise NotEntitled(access.state_text)


def camp_quote(*, user, term_id, free_grant: bool = False) -> items.Quote:
    term = Term.objects.filter(
        pk=item_id_or_unavailable(term_id), is_published=True, camp__is_published=True
    ).first()
    if term is None:
        raise items.ItemUnavailable()
    if term.camp.price_fen <= 0 and not free_grant:
        raise items.ItemUnavailable(_("该营期无需付费报名"), code="not_for_sale")
    term = camp_selectors.term_get(term_id=term.pk)
    access = camp_selectors.term_access(user, term)
    if access.joined:
        raise items.ItemUnavailable(_("你已加入本期"), code="already_joined")
    if access.state == "join_free":
        raise items.ItemUnavailable(_("会员可免费加入，无需购买"), code="included_in_membership")
    if access.state in ("ended", "full"):
        raise items.ItemUnavailable(access.state_text, code=f"term_{access.state}")
    quote = items.Quote(
        title=_("训练营「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name},
        list_price_fen=term.camp.price_fen,
        context={"term_id": term.pk, "camp_id": term.camp_id},
    )
    return tier_discount_line(user=user, quote=quote)


def camp_fulfil(*, order) -> TermSeat | None:
    """A paid camp order: a seat, or — when the term filled up while the member paid — a refund."""
    term = Term.objects.select_related("camp").get(pk=item_id_or_unavailable(order.item_id))
    try:
        with transaction.atomic():
            seat = seat_grant(
                term=term, user=order.user, source=source_for_order(order), order_no=order.order_no
            )
        if seat.order_no != order.order_no:
            # Already in this term through another order or a grant: the second payment goes back.
            if order.amount_fen == 0:
                raise items.ItemUnavailable(_("你已加入本期"), code="already_joined")
            refund_later(order, reason=_("你已加入本期，重复支付自动退款"))
            return seat
    except TermFull:
        if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
            raise
        refund_later(order, reason=_("营期名额已满，报名费原路退回"))
        notify(
            user=order.user,
            kind="camp_full_refund",
            title=_("「%(camp)s」%(term)s 名额已满") % {"camp": term.camp.title, "term": term.name},
            body=_("很抱歉，支付完成时名额已被抢完，报名费将原路退回。"),
            url=term_url(term),
        )
        return None
    notify(
        user=order.user,
        kind="camp_joined",
        title=_("已加入「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name},
        body=_("%(date)s 开营，每天完成任务并打卡。") % {"date": f"{term.start_date:%m-%d}"},
        url=term_url(term),
    )
    return seat


def seat_revoke(*, order) -> bool:
    """A completed full refund of a camp order takes the seat back (exactly once, keyed on order_no)."""
    if not fully_refunded(order):
        return False
    with transaction.atomic():
        seat = (
            TermSeat.objects.select_for_update(of=("self",))
            .filter(order_no=order.order_no, status=TermSeat.Status.ACTIVE)
            .first()
        )
        if seat is None:
            return False
        seat.status = TermSeat.Status.REVOKED
        seat.revoked_at = timezone.now()
        seat.save(update_fields=["status", "revoked_at", "updated_at"])
    return True


def camp_refund_window(*, order) -> timedelta:
    """Self-service refunds until the end of the term's first day (Asia/Shanghai)."""
    term = Term.objects.filter(pk=item_id_or_unavailable(order.item_id)).first()
    if term is None or order.paid_at is None:
        return timedelta(0)
    tz = timezone.get_current_timezone()
    deadline = datetime.combine(term.start_date + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return max(timedelta(0), deadline - order.paid_at)
