"""Serializers and payload helpers the catalog, events and camps APIs share: the person shown as
teacher, the quote a member would pay (with its checkout link) and cover URLs."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.errors import ApplicationError
from payments import items
from payments.orders.checkout import web_checkout_url


def checkout_url(item_type: str, item_id) -> str:
    return web_checkout_url(item_type=item_type, item_id=str(item_id))


def quote_payload(quote_fn, *, user, item_type: str, item_id) -> tuple[dict | None, str]:
    """The price this user would pay now (with the tier discount line), or why it cannot be bought."""
    if not getattr(user, "is_authenticated", False):
        return None, "login"
    try:
        # then every adjuster, so the price shown is what the order will charge (e.g. a flash sale)
        quote = items.adjust(
            user=user, item_type=item_type, item_id=item_id, quote=quote_fn(user=user, item_id=item_id)
        )
    except ApplicationError as exc:
        return None, exc.code
    return {
        "list_price_fen": quote.list_price_fen,
        "amount_fen": quote.amount_fen,
        "lines": [{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines],
        "checkout_url": checkout_url(item_type, item_id),
    }, ""


class PersonSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CoursesPerson"

    id = serializers.IntegerField()
    nickname = serializers.CharField(source="display_name")
    avatar_url = serializers.CharField()


QuoteSerializer = inline_serializer(
    name="CoursesQuote",
    fields={
        "list_price_fen": serializers.IntegerField(),
        "amount_fen": serializers.IntegerField(),
        "lines": serializers.ListField(child=serializers.DictField()),
        "checkout_url": serializers.CharField(),
    },
    allow_null=True,
)


def cover_url(obj) -> str:
    return obj.cover.url if obj.cover else ""
