"""The item types circles sells through payments: `circle` (join/renew), `tip` and `circle_question`."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circles.models import Circle, PaidQuestion, TipIntent
from circles.services import memberships as membership_services
from circles.services import pricing as circle_pricing
from circles.services import questions as question_services
from circles.services import tips as tip_services
from payments import items


def _int_id(item_id: str) -> int:
    try:
        return int(item_id)
    except (TypeError, ValueError):
        raise items.ItemUnavailable() from None


class CircleItemType(items.ItemType):
    code = "circle"
    label = gettext_lazy("付费圈子")  # a class attribute: translated when shown, not at import

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        circle = Circle.objects.filter(pk=_int_id(item_id), is_published=True).first()
        if circle is None:
            raise items.ItemUnavailable()
        price = circle_pricing.circle_price(circle=circle, user=user)
        title = (_("续费圈子「%(name)s」") if price.kind == "renew" else _("加入圈子「%(name)s」")) % {
            "name": circle.name
        }
        quote = items.Quote(
            title=title,
            list_price_fen=price.list_price_fen,
            context={
                "circle_id": circle.pk,
                "circle_kind": price.kind,
                "band": price.band,
                "expires_at": timezone.localtime(price.expires_at).isoformat(),
            },
        )
        for label, amount in price.lines:
            quote = quote.with_line(label, amount)
        return quote

    def fulfill(self, *, order) -> None:
        circle = Circle.objects.get(pk=_int_id(order.item_id))
        membership_services.circle_membership_fulfil(
            circle=circle, user=order.user, order_no=order.order_no, amount_fen=order.amount_fen
        )

    def revoke(self, *, order, refund) -> None:
        membership_services.circle_membership_revoke(
            order_no=order.order_no, fully_refunded=order.refunded_fen >= order.amount_fen
        )


class TipItemType(items.ItemType):
    code = "tip"
    label = gettext_lazy("打赏")  # a class attribute: translated when shown, not at import

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        intent = (
            TipIntent.objects.select_related("recipient")
            .filter(pk=_int_id(item_id), tipper_id=getattr(user, "pk", None), status=TipIntent.Status.CREATED)
            .first()
        )
        if intent is None:
            raise items.ItemUnavailable(_("打赏不存在或已支付"))
        return items.Quote(
            title=_("打赏 %(who)s") % {"who": intent.recipient.display_name},
            list_price_fen=intent.amount_fen,
            context={"tip_id": intent.pk, "author_share_fen": intent.author_share_fen},
        )

    def fulfill(self, *, order) -> None:
        tip_services.tip_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        tip_services.tip_revoke(order=order, refund=refund)


class PaidQuestionItemType(items.ItemType):
    code = "circle_question"
    label = gettext_lazy("付费提问")  # a class attribute: translated when shown, not at import

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        question = (
            PaidQuestion.objects.select_related("guest", "circle")
            .filter(
                pk=_int_id(item_id), asker_id=getattr(user, "pk", None), status=PaidQuestion.Status.CREATED
            )
            .first()
        )
        if question is None:
            raise items.ItemUnavailable(_("提问不存在或已支付"))
        return items.Quote(
            title=_("向 %(guest)s 付费提问") % {"guest": question.guest.display_name},
            list_price_fen=question.price_fen,
            context={"question_id": question.pk},
        )

    def fulfill(self, *, order) -> None:
        question_services.paid_question_fulfil(order=order)

    def refund_window_for(self, *, order) -> timedelta:
        """The asker may take the money back only while no answer has come (then operators decide)."""
        answered = PaidQuestion.objects.filter(
            order_no=order.order_no,
            status__in=(PaidQuestion.Status.ANSWERED, PaidQuestion.Status.REVIEW),
        ).exists()
        return timedelta(0) if answered else self.refund_window

    def revoke(self, *, order, refund) -> None:
        question_services.paid_question_revoke(order=order, refund=refund)


def register_all() -> None:
    items.register(CircleItemType())
    items.register(TipItemType())
    items.register(PaidQuestionItemType())
