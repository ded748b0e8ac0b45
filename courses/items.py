"""The item types courses sells through payments: `course`, `event` (a registration) and `camp` (a seat in
one term; the item id is the term id). Prices include the buyer's tier discount as a quote line."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from courses.camps import seats as camp_seats
from courses.catalog import services as catalog_services
from courses.events import registrations as event_registrations
from payments import items


class CourseItemType(items.ItemType):
    code = "course"
    label = _("课程")
    refund_window = timedelta(days=3)

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return catalog_services.course_quote(user=user, course_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        catalog_services.course_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        if order.refunded_fen >= order.amount_fen:
            catalog_services.enrolment_revoke(order_no=order.order_no)


class EventItemType(items.ItemType):
    code = "event"
    label = _("线下课报名")
    virtual = False  # a seat at a physical class: WeChat Pay is allowed in the iOS mini-program

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return event_registrations.event_quote(user=user, event_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        event_registrations.event_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        event_registrations.event_revoke(order=order, refund=refund)

    def refund_window_for(self, *, order) -> timedelta:
        return event_registrations.event_refund_window(order=order)


class CampItemType(items.ItemType):
    code = "camp"
    label = _("训练营")

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return camp_seats.camp_quote(user=user, term_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        camp_seats.camp_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        camp_seats.seat_revoke(order=order)

    def refund_window_for(self, *, order) -> timedelta:
        return camp_seats.camp_refund_window(order=order)


def register_all() -> None:
    items.register(CourseItemType())
    items.register(EventItemType())
    items.register(CampItemType())
