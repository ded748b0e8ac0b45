"""Item types members sells through payments: `membership` (item id = tier code) and
`membership_days` (item id `VIP:30`; only given away — points mall, operator grants)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.errors import ApplicationError
from members.memberships.grants import (
    membership_days_fulfil,
    membership_fulfil_order,
    membership_revoke_order,
)
from members.memberships.selectors import membership_for_checkout, parse_days_item
from members.memberships.upgrades import LowerTierActive, membership_offer
from members.models import MembershipTier
from payments import items


def lower_tier_refusal(exc: LowerTierActive) -> ApplicationError:
    current = exc.membership
    return ApplicationError(
        "lower_tier_active",
        _("您已是%(current)s（有效期至 %(ends)s），已包含%(tier)s的全部权益，无需购买较低等级。")
        % {
            "current": current.tier.name,
            "ends": timezone.localtime(current.ends_at).strftime("%Y-%m-%d"),
            "tier": exc.tier.name,
        },
        extra={"current_tier": current.tier.code},
    )


def refund_in_flight_refusal() -> ApplicationError:
    return ApplicationError(
        "membership_refund_in_progress",
        _("您有一笔会员订单正在退款，退款完成后才能续费、升级或兑换会员天数。"),
        status_code=409,
    )


class MembershipItemType(items.ItemType):
    code = "membership"
    label = pgettext_lazy("membership", "会员")  # a class attribute: translated when shown, not at import
    integer_ids = False
    refund_window = timedelta(days=7)

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        tier = MembershipTier.objects.filter(code=item_id.strip(), is_active=True).first()
        if tier is None:
            raise items.ItemUnavailable(_("该会员等级不存在或已停售"))
        current, refund_in_flight = membership_for_checkout(user)
        if refund_in_flight:
            raise refund_in_flight_refusal()
        try:
            offer = membership_offer(user, tier, current=current)
        except LowerTierActive as exc:
            raise lower_tier_refusal(exc) from None
        titles = {
            offer.START: _("开通%(tier)s（%(days)s天）"),
            offer.RENEW: _("续费%(tier)s（顺延%(days)s天）"),
            offer.UPGRADE: _("升级为%(tier)s（%(days)s天）"),
        }
        quote = items.Quote(
            title=titles[offer.kind] % {"tier": tier.name, "days": tier.duration_days},
            list_price_fen=tier.price_fen,
            context={
                "tier": tier.code,
                "kind": offer.kind,
                "credit_fen": offer.credit_fen,
                "unused_days": offer.unused_days,
                "from_tier": offer.current.tier.code if offer.current else "",
            },
        )
        if offer.kind == offer.UPGRADE and offer.credit_fen:
            assert offer.current is not None  # membership_offer upgrades only from a current membership
            quote = quote.with_line(
                _("原%(tier)s剩余 %(days)s 天折抵")
                % {"tier": offer.current.tier.name, "days": offer.unused_days},
                -offer.credit_fen,
            )
        return quote

    def fulfill(self, *, order) -> None:
        membership_fulfil_order(order=order)

    def revoke(self, *, order, refund) -> None:
        membership_revoke_order(order=order, refund=refund)


class MembershipDaysItemType(items.ItemType):
    """N days of a tier, for the points mall and gifts. Never sold for money."""

    code = "membership_days"
    label = gettext_lazy("会员天数")  # a class attribute: translated when shown, not at import
    integer_ids = False

    def quote(self, *, user, item_id: str, free_grant: bool = False) -> items.Quote:
        if not free_grant:
            raise items.ItemUnavailable(_("会员天数只能通过积分兑换或赠送获得"))
        tier, days = parse_days_item(item_id)
        current, refund_in_flight = membership_for_checkout(user)
        if refund_in_flight:
            raise refund_in_flight_refusal()
        if current is not None and current.tier.rank > tier.rank:
            raise lower_tier_refusal(LowerTierActive(current, tier))
        if current is not None and current.tier.rank < tier.rank:
            raise ApplicationError(
                "upgrade_first",
                _("您当前是%(current)s，请先升级为%(tier)s再兑换")
                % {"current": current.tier.name, "tier": tier.name},
            )
        value = tier.price_fen * days // tier.duration_days if tier.duration_days else 0
        return items.Quote(
            title=_("%(tier)s %(days)s 天") % {"tier": tier.name, "days": days},
            list_price_fen=value,
            context={"tier": tier.code, "days": days},
        )

    def fulfill(self, *, order) -> None:
        membership_days_fulfil(order=order)

    def revoke(self, *, order, refund) -> None:
        membership_revoke_order(order=order, refund=refund)


def register_all() -> None:
    items.register(MembershipItemType())
    items.register(MembershipDaysItemType())
