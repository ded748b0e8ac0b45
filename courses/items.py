"""The item types courses sells through payments: `course`, `event` (a registration) and `camp` (a seat in
one term; the item id is the term id). Prices include the buyer's tier discount as a quote line."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from courses import services
from payments import items


class CourseItemType(items.ItemType):
    code = "course"
    label = _("课程")
    refund_window = timedelta(days=3)

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return services.course_quote(user=user, course_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        services.course_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        if order.refunded_fen >= order.amount_fen:
            services.enrolment_revoke(order_no=order.order_no)


class EventItemType(items.ItemType):
    code = "event"
    label = _("线下课报名")
    virtual = False  # a seat at a physical class: WeChat Pay is allowed in the iOS mini-program

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return services.event_quote(user=user, event_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        services.event_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        services.event_revoke(order=order, refund=refund)

    def refund_window_for(self, *, order) -> timedelta:
        return services.event_refund_window(order=order)


class CampItemType(items.ItemType):
    code = "camp"
    label = _("训练营")

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        return services.camp_quote(user=user, term_id=item_id, free_grant=free_grant)

    def fulfill(self, *, order) -> None:
        services.camp_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        services.seat_revoke(order=order)

    def refund_window_for(self, *, order) -> timedelta:
        return services.camp_refund_window(order=order)


def register_all() -> None:
    items.register(CourseItemType())
    items.register(EventItemType())
    items.register(CampItemType())
