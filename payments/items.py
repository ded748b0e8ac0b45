"""The item registry: how `payments` sells things it does not know.

Each app above payments registers the item types it sells in its AppConfig.ready():

    from payments import items
    items.register(MembershipItemType())
    items.on_paid(referrals.commissions.commission_accrue_for_order)

payments then prices (`quote`), snapshots the title, calls `fulfill` exactly once inside the
transaction that marks the order paid, and `revoke` exactly once for each completed refund.
The listener lists are explicit code (not Django signals) so the order of effects is readable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from core.errors import ApplicationError

if TYPE_CHECKING:  # pragma: no cover
    from django_stubs_ext import StrOrPromise

    from payments.models import Order, Refund


@dataclass(frozen=True)
class QuoteLine:
    """One line of a price breakdown shown to the buyer, e.g. ("会员折扣", -36000)."""

    label: str
    amount_fen: int


@dataclass(frozen=True)
class Quote:
    """What a given user pays for an item right now. amount_fen == list_price_fen + sum(lines)."""

    title: str
    list_price_fen: int
    lines: tuple[QuoteLine, ...] = ()
    # Free-form facts the item type wants back at fulfil time (e.g. {"upgrade_from": 3}).
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def amount_fen(self) -> int:
        return max(0, self.list_price_fen + sum(line.amount_fen for line in self.lines))

    @property
    def discount_fen(self) -> int:
        return self.list_price_fen - self.amount_fen

    def with_line(self, label: str, amount_fen: int, **context: Any) -> Quote:
        return Quote(
            self.title,
            self.list_price_fen,
            (*self.lines, QuoteLine(label, amount_fen)),
            {**self.context, **context},
        )


@dataclass(frozen=True)
class RefundTerm:
    """One consequence of refunding an order, shown to the buyer before they confirm.

    A term with a `refusal_code` stops the refund (the code is what the API answers); the others say
    what the buyer will lose ("VIP 会员将结束", "扣回 3,600 积分"). Every funding chain writes its rule
    once, as a function registered with `add_refund_terms`, so the preview and the refund itself can
    never disagree.
    """

    text: str
    refusal_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ItemUnavailable(ApplicationError):
    def __init__(self, message: str | None = None, code: str = "item_unavailable"):
        super().__init__(code, message or _("该商品不存在或暂不可购买"), status_code=400)


class ItemType:
    """Base class for a sellable item type. Subclasses set `code`/`label` and implement the methods."""

    code: str = ""
    label: StrOrPromise = ""  # usually a lazy translation
    # Self-service refunds are allowed this long after payment (operators can always refund).
    refund_window: timedelta = timedelta(days=3)
    # Virtual goods cannot be paid with WeChat Pay in an iOS mini-program.
    virtual: bool = True
    # API clients send integer ids for every item type except membership (tier code).
    integer_ids: bool = True

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> Quote:
        """Price the item for this user or raise ItemUnavailable / ApplicationError with a clear code.

        `free_grant`: the item is being given away, not sold (`order_create_free`: points mall,
        operator grants, group-buy gifts); item types never sold for money quote only then."""
        raise NotImplementedError

    def fulfill(self, *, order: Order) -> None:
        """Grant what the order bought. Called once, inside the transaction that marks it paid."""
        raise NotImplementedError

    def revoke(self, *, order: Order, refund: Refund) -> None:
        """Take back what a completed refund covers. Called once per refund, inside its transaction."""
        raise NotImplementedError

    def refund_window_for(self, *, order: Order) -> timedelta:
        return self.refund_window


_registry: dict[str, ItemType] = {}
_paid_listeners: list[Callable[[Order], object]] = []
_refunded_listeners: list[Callable[[Order, Refund], object]] = []
# Funding-chain rules: `terms(*, order, amount_fen) -> list[RefundTerm]`, asked before every refund.
_refund_term_rules: list[Callable[..., list[RefundTerm]]] = []
# Run inside the refund-request transaction (order locked) / when a refund ends without success.
_refund_requested_listeners: list[Callable[[Order, Refund], object]] = []
_refund_failed_listeners: list[Callable[[Order, Refund], object]] = []
# Adjusters may change a quote (e.g. promoter price via a referral code); called in order.
_quote_adjusters: list[Callable[..., Quote]] = []
# Holds: what a pending order reserves while it can be paid (a coupon, a flash-sale unit). `opened` runs
# in the order's creating transaction and may refuse (ApplicationError → no order); `closed` runs in
# the transaction that closes it unpaid and gives the reservation back.
_opened_listeners: list[Callable[[Order], object]] = []
_closed_listeners: list[Callable[[Order], object]] = []


def register(item_type: ItemType) -> None:
    if not item_type.code:
        raise ValueError("item type needs a code")
    _registry[item_type.code] = item_type


def get(code: str) -> ItemType:
    try:
        return _registry[code]
    except KeyError:
        raise ItemUnavailable(_("未知的商品类型"), code="unknown_item_type") from None


def registered() -> dict[str, ItemType]:
    return dict(_registry)


def on_paid(listener: Callable[[Order], object]) -> None:
    """Run `listener(order)` in the paid transaction, after fulfil. Must be idempotent."""
    if listener not in _paid_listeners:
        _paid_listeners.append(listener)


def on_refunded(listener: Callable[[Order, Refund], object]) -> None:
    """Run `listener(order, refund)` in the refund-completed transaction, after revoke. Idempotent."""
    if listener not in _refunded_listeners:
        _refunded_listeners.append(listener)


def add_refund_terms(rule: Callable[..., list[RefundTerm]]) -> None:
    """`rule(*, order, amount_fen) -> list[RefundTerm]`: what refunding `amount_fen` of `order` means
    for one funding chain (points it earned, credit it gave, benefits it included)."""
    if rule not in _refund_term_rules:
        _refund_term_rules.append(rule)


def on_refund_requested(listener: Callable[[Order, Refund], object]) -> None:
    """Run `listener(order, refund)` when a refund is requested, in that transaction (order locked):
    the place to reserve what the refund takes back, so nothing can spend it while WeChat works."""
    if listener not in _refund_requested_listeners:
        _refund_requested_listeners.append(listener)


def on_refund_failed(listener: Callable[[Order, Refund], object]) -> None:
    """Run `listener(order, refund)` when a requested refund ends closed or abnormal: undo the
    reservation of `on_refund_requested`. Idempotent."""
    if listener not in _refund_failed_listeners:
        _refund_failed_listeners.append(listener)


def refund_terms(*, order: Order, amount_fen: int) -> list[RefundTerm]:
    """Every funding chain's word on refunding `amount_fen` of `order` (refusals first)."""
    terms: list[RefundTerm] = []
    for rule in _refund_term_rules:
        terms.extend(rule(order=order, amount_fen=amount_fen))
    return sorted(terms, key=lambda term: not term.refusal_code)


def refund_requested_listeners() -> list[Callable[[Order, Refund], object]]:
    return list(_refund_requested_listeners)


def refund_failed_listeners() -> list[Callable[[Order, Refund], object]]:
    return list(_refund_failed_listeners)


def add_quote_adjuster(adjuster: Callable[..., Quote]) -> None:
    """`adjuster(*, user, item_type, item_id, quote, referral_code, coupon_code) -> Quote`.

    Adjusters run in registration order (INSTALLED_APPS order of the apps registering them): the
    referral app's promoter price, then the growth app's flash-sale price and coupon."""
    if adjuster not in _quote_adjusters:
        _quote_adjusters.append(adjuster)


def on_opened(listener: Callable[[Order], object]) -> None:
    """Run `listener(order)` when a priced order is created, in that transaction: the place to reserve
    what its quote promised (a coupon, a flash-sale unit). Raising an ApplicationError refuses the order."""
    if listener not in _opened_listeners:
        _opened_listeners.append(listener)


def on_closed(listener: Callable[[Order], object]) -> None:
    """Run `listener(order)` when a pending order closes unpaid, in that transaction (order locked):
    give back what `on_opened` reserved. Idempotent."""
    if listener not in _closed_listeners:
        _closed_listeners.append(listener)


def opened_listeners() -> list[Callable[[Order], object]]:
    return list(_opened_listeners)


def closed_listeners() -> list[Callable[[Order], object]]:
    return list(_closed_listeners)


def paid_listeners() -> list[Callable[[Order], object]]:
    return list(_paid_listeners)


def refunded_listeners() -> list[Callable[[Order, Refund], object]]:
    return list(_refunded_listeners)


def quote(
    *,
    user,
    item_type: str,
    item_id: str,
    referral_code: str = "",
    coupon_code: str = "",
    free_grant: bool = False,
) -> Quote:
    """What `user` pays for the item now: the item type's quote, then every quote adjuster.

    `coupon_code`: a coupon the buyer chose; the adjuster that owns coupons refuses one that does not
    apply (ApplicationError), so a price is never shown or charged for a coupon that was not given."""
    kind = get(item_type)
    result = kind.quote(user=user, item_id=str(item_id), free_grant=free_grant)
    return adjust(
        user=user,
        item_type=item_type,
        item_id=item_id,
        quote=result,
        referral_code=referral_code,
        coupon_code=coupon_code,
    )


def adjust(
    *, user, item_type: str, item_id, quote: Quote, referral_code: str = "", coupon_code: str = ""
) -> Quote:
    """Every quote adjuster applied to an item type's own quote: what `quote` does after pricing, for
    pages and APIs that priced the item themselves (with the access they already read), so the price
    they show is the price an order will charge (a running flash sale, a promoter's price)."""
    kind = get(item_type)
    for adjuster in _quote_adjusters:
        quote = adjuster(
            user=user,
            item_type=kind,
            item_id=str(item_id),
            quote=quote,
            referral_code=referral_code,
            coupon_code=coupon_code,
        )
    return quote


def label_of(code: str) -> str:
    """The human label of an item type code (`membership` → 会员), for lists and exports; the code if unknown."""
    kind = _registry.get(code)
    return str(kind.label) if kind is not None and kind.label else code
