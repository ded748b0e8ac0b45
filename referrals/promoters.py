"""Promoters: their levels (granted by operators, lifted by a membership tier, or raised automatically
on real sales — never on recruiting), blocking, promoter prices, and the quote step that captures an
order's referrer and applies the lowest promoter price (run by `referrals.order_quote`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from members.memberships.selectors import active_membership
from members.models import User
from payments.items import Quote
from payments.models import Order
from referrals.attribution import Attribution
from referrals.models import Promoter, PromoterLevel, PromoterPrice
from referrals.notifications import notify_member


def default_level() -> PromoterLevel | None:
    return PromoterLevel.objects.filter(is_default=True).first()


def promoter_get_or_create(user: User) -> Promoter:
    promoter, _created = Promoter.objects.get_or_create(user=user)
    return promoter


def promoter_level_of(user: User) -> PromoterLevel | None:
    """The promoter's level: granted (operator or sales), else the default; a membership tier may
    lift it to the level that tier grants (a tier raises the rate, it is never a condition)."""
    if not getattr(user, "pk", None):
        return default_level()
    level = PromoterLevel.objects.filter(promoters__user_id=user.pk).first() or default_level()
    by_tier = _level_granted_by_tier(user)
    if by_tier is not None and (level is None or by_tier.rank > level.rank):
        return by_tier
    return level


def _level_granted_by_tier(user: User) -> PromoterLevel | None:
    if not PromoterLevel.objects.filter(grant_tier__isnull=False).exists():
        return None
    membership = active_membership(user)
    if membership is None:
        return None
    return PromoterLevel.objects.filter(grant_tier__rank__lte=membership.tier.rank).order_by("-rank").first()


def promoter_set_level(*, user: User, level: PromoterLevel | None, actor, reason: str = "") -> Promoter:
    """An operator grants a level (or clears it back to the default). Audited."""
    with transaction.atomic():
        promoter = promoter_get_or_create(user)
        promoter = Promoter.objects.select_for_update(of=("self",)).get(pk=promoter.pk)
        before = promoter.level_id
        promoter.level = level
        promoter.level_source = Promoter.LevelSource.OPERATOR if level else Promoter.LevelSource.DEFAULT
        promoter.level_changed_at = timezone.now()
        promoter.save(update_fields=["level", "level_source", "level_changed_at"])
        audit_record(
            actor=actor,
            action="referrals.promoter_level",
            target=promoter,
            summary=f"推广员级别 {before} → {level.pk if level else None}",
            reason=reason,
        )
    return promoter


def promoter_block(*, user: User, blocked: bool, actor, reason: str = "") -> Promoter:
    """Stop (or restore) a promoter's right to bind customers and earn. Audited."""
    with transaction.atomic():
        promoter = promoter_get_or_create(user)
        Promoter.objects.filter(pk=promoter.pk).update(
            is_blocked=blocked, blocked_reason=(reason or "")[:200]
        )
        promoter.refresh_from_db()
        audit_record(
            actor=actor,
            action="referrals.promoter_block" if blocked else "referrals.promoter_unblock",
            target=promoter,
            summary=("停止推广资格" if blocked else "恢复推广资格"),
            reason=reason,
        )
    return promoter


def promoter_sales(user: User) -> tuple[int, int]:
    """(net paid fen, number of orders) of real sales attributed to this promoter."""
    row = Order.objects.filter(
        referrer_id=user.pk,
        amount_fen__gt=0,
        status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDING],
    ).aggregate(total=Sum(F("amount_fen") - F("refunded_fen")), n=Sum(1))
    return int(row["total"] or 0), int(row["n"] or 0)


def promoter_auto_upgrade(*, user: User) -> PromoterLevel | None:
    """Raise a promoter to the highest level whose real-sales thresholds they meet (never lowers)."""
    candidates = [lvl for lvl in PromoterLevel.objects.order_by("-rank") if lvl.has_auto_rule]
    if not candidates:
        return None
    current = promoter_level_of(user)
    current_rank = current.rank if current else -1
    candidates = [lvl for lvl in candidates if lvl.rank > current_rank]
    if not candidates:
        return None
    sales_fen, orders = promoter_sales(user)
    for level in candidates:
        if level.auto_min_sales_fen is not None and sales_fen < level.auto_min_sales_fen:
            continue
        if level.auto_min_orders is not None and orders < level.auto_min_orders:
            continue
        promoter = promoter_get_or_create(user)
        Promoter.objects.filter(pk=promoter.pk).update(
            level=level, level_source=Promoter.LevelSource.AUTO, level_changed_at=timezone.now()
        )
        notify_member(
            user=user,
            kind="referral_level_up",
            title=_("恭喜升级为「%(level)s」推广员") % {"level": level.name},
            body=_("你的推广成交已达到升级条件。"),
            url="/referrals/",
        )
        return level
    return None


def promoter_price_for(
    *, buyer: User, referrer: User | None, item_type: str, item_id: str
) -> PromoterPrice | None:
    """The lowest promoter price that applies: the buyer's own level (self) or the referrer's (referred)."""
    prices = PromoterPrice.objects.filter(item_type=item_type, item_id=str(item_id))
    if not prices.exists():
        return None  # most items have no promoter prices: no level lookups (every order quote asks)
    conditions = Q()
    buyer_level = promoter_level_of(buyer) if getattr(buyer, "pk", None) else None
    if buyer_level is not None:
        conditions |= Q(level=buyer_level, applies_to=PromoterPrice.AppliesTo.SELF)
    if referrer is not None:
        referrer_level = promoter_level_of(referrer)
        if referrer_level is not None:
            conditions |= Q(level=referrer_level, applies_to=PromoterPrice.AppliesTo.REFERRED)
    if not conditions:
        return None
    return prices.select_related("level").filter(conditions).order_by("price_fen").first()


# ---- the order's quote: referrer and promoter price (referrals.order_quote) ------------------------------


def quote_with_promoter_price(*, user, item_type, item_id: str, quote, attribution: Attribution):
    """The quote with the order's referrer (`referrer_id` in its context) and the lowest applicable
    promoter price, which wins over the item's own price (discounts do not stack). Reads only:
    `referrals.order_quote` calls it for pages that show a price as well as for orders."""
    code = getattr(item_type, "code", str(item_type))
    if code != "group_buy":
        price = promoter_price_for(buyer=user, referrer=attribution.referrer, item_type=code, item_id=item_id)
        if price is not None and price.price_fen < quote.amount_fen:
            label = (
                _("%(level)s价")
                if price.applies_to == PromoterPrice.AppliesTo.SELF
                else _("%(level)s推荐专享价")
            ) % {"level": price.level.name}
            quote = quote.with_line(label, price.price_fen - quote.amount_fen, promoter_price_id=price.pk)
    if attribution.referrer is not None:
        quote = Quote(
            quote.title,
            quote.list_price_fen,
            quote.lines,
            {**quote.context, "referrer_id": attribution.referrer.pk, "referral_source": attribution.source},
        )
    return quote
