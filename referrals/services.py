"""referrals services: codes and links, attribution and binding, promoters, levels and agreements.

Attribution rules (docs/architecture.md §2, issue #8):
- a user is bound to a referrer once: by the first valid code at sign-up, or (if they signed up
  without one) by the code of their first paid purchase; the binding lasts `binding_validity_days`
  (0 = for ever) and can be replaced only after it expired;
- self-referral, cycles (A→B and B→A), and a referrer sharing the user's WeChat unionid or phone are
  refused and recorded (`BindingRefusal`);
- an order captures its referrer at creation (`attribution_for_order`, via the quote adjuster): the
  bound referrer, unless the operator lets an explicit share-link code win — never inside the
  binding's protection period (anti-poaching).
Commission never depends on a sign-up: binding creates no reward.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import ApplicationError
from members.models import User
from referrals.locks import lock_binding_graph
from referrals.models import (
    AgreementAcceptance,
    BindingRefusal,
    LinkChannel,
    Promoter,
    PromoterAgreement,
    PromoterLevel,
    PromoterPrice,
    ReferralBinding,
    ReferralLinkStat,
    ReferralSettings,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "referral_code"  # the members sign-up hook reads this key (contract)
SESSION_SEEN_KEY = "referral_seen"
_CODE_RE = re.compile(r"^[A-Z0-9]{4,16}$")
_UPLINE_HOPS_LIMIT = 1000


# ---- codes, tokens and links ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RefToken:
    """A referral code plus the channel it was shared through: `ABCD2345` or `ABCD2345.poster`.

    The token travels where a plain code travels (session key, `referral_code` in API bodies,
    `Order.referral_code`), so the sign-up hook can count sign-ups per channel.
    """

    code: str
    channel: str = LinkChannel.LINK

    def __str__(self) -> str:
        return self.code if self.channel == LinkChannel.LINK else f"{self.code}.{self.channel}"


def parse_ref(raw: str | None) -> RefToken | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    code, _sep, channel = raw.partition(".")
    code = code.strip().upper()
    if not _CODE_RE.match(code):
        return None
    channel = channel.strip().lower()
    if not channel:
        channel = LinkChannel.LINK
    elif channel not in LinkChannel.values:
        channel = LinkChannel.OTHER
    return RefToken(code=code, channel=channel)


def user_for_code(code: str) -> User | None:
    token = parse_ref(code)
    if token is None:
        return None
    return User.objects.filter(referral_code=token.code, is_active=True).first()


def share_url(user: User, *, channel: str = "") -> str:
    path = f"/r/{user.referral_code}/"
    if channel and channel != LinkChannel.LINK:
        path += f"?c={channel}"
    return f"{settings.SITE_URL}{path}"


def miniprogram_path(user: User) -> str:
    page = getattr(settings, "REFERRALS_MINIPROGRAM_PAGE", "pages/index/index")
    return f"{page}?ref={user.referral_code}"


def link_visit_record(*, referrer: User, channel: str, now: datetime | None = None) -> None:
    """Count one visit through a promoter's link (callers de-duplicate per session)."""
    _link_stat_bump(referrer=referrer, channel=channel, visits=1, now=now or timezone.now())


def _link_stat_bump(*, referrer: User, channel: str, visits: int = 0, signups: int = 0, now=None) -> None:
    channel = channel if channel in LinkChannel.values else LinkChannel.OTHER
    stat, _created = ReferralLinkStat.objects.get_or_create(user=referrer, channel=channel)
    updates: dict = {"visits": F("visits") + visits, "signups": F("signups") + signups}
    if visits:
        updates["last_visit_at"] = now or timezone.now()
    ReferralLinkStat.objects.filter(pk=stat.pk).update(**updates)


# ---- settings ------------------------------------------------------------------------------------------


def settings_update(*, actor, **values) -> ReferralSettings:
    """Change referral settings; enabling level 2 records who accepted its compliance risk."""
    conf = ReferralSettings.current()
    enabling_level2 = values.get("commission_depth") == 2 and conf.commission_depth != 2
    for name, value in values.items():
        setattr(conf, name, value)
    if enabling_level2:
        conf.level2_acknowledged_by = actor if getattr(actor, "pk", None) else None
        conf.level2_acknowledged_at = timezone.now()
    conf.full_clean()
    conf.save()
    audit_record(actor=actor, action="referrals.settings", target=conf, summary="推广设置变更", **values)
    return conf


# ---- attribution ---------------------------------------------------------------------------------------


class Refusal:
    """Why a code was not used for a binding or an order (machine codes, shown to operators)."""

    INVALID_CODE = "invalid_code"
    SELF = "self"
    CYCLE = "cycle"
    SAME_WECHAT = "same_wechat"
    SAME_PHONE = "same_phone"
    BLOCKED = "blocked"
    ALREADY_BOUND = "already_bound"
    PROTECTED = "protected"
    OVERRIDE_DISABLED = "override_disabled"

    # Lazy: translated when shown (API message, admin form error), in the reader's language.
    MESSAGES = {
        INVALID_CODE: gettext_lazy("推荐码无效"),
        SELF: gettext_lazy("不能绑定自己为推荐人"),
        CYCLE: gettext_lazy("对方是你推荐的用户，不能互相绑定"),
        SAME_WECHAT: gettext_lazy("推荐人与你是同一微信身份"),
        SAME_PHONE: gettext_lazy("推荐人与你是同一手机号"),
        BLOCKED: gettext_lazy("该推广员已停止推广资格"),
        ALREADY_BOUND: gettext_lazy("你已绑定推荐人，推荐关系只绑定一次"),
        PROTECTED: gettext_lazy("你与当前推荐人的绑定在保护期内"),
        OVERRIDE_DISABLED: gettext_lazy("已有推荐人，订单归属绑定的推荐人"),
    }


class BindingRefused(ApplicationError):
    def __init__(self, reason: str):
        super().__init__(f"referral_{reason}", str(Refusal.MESSAGES.get(reason, _("推荐关系无法绑定"))))
        self.reason = reason


def active_binding(user: User, *, now: datetime | None = None) -> ReferralBinding | None:
    """The user's binding if it is still valid (not ended, not expired)."""
    if not getattr(user, "pk", None):
        return None
    now = now or timezone.now()
    return (
        ReferralBinding.objects.select_related("referrer")
        .filter(user_id=user.pk, ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def upline_ids(user_id: int, *, limit: int = _UPLINE_HOPS_LIMIT) -> list[int]:
    """Referrer, referrer's referrer, … of a user through open bindings (nearest first)."""
    chain: list[int] = []
    seen = {user_id}
    current = user_id
    for _hop in range(limit):
        parent = (
            ReferralBinding.objects.filter(user_id=current, ended_at__isnull=True)
            .values_list("referrer_id", flat=True)
            .first()
        )
        if parent is None or parent in seen:
            break
        chain.append(parent)
        seen.add(parent)
        current = parent
    return chain


def _same_wechat(user: User, referrer: User) -> bool:
    from core.models import WeChatIdentity

    if not user.pk or not referrer.pk:
        return False
    mine = set(
        WeChatIdentity.objects.filter(user_id=user.pk).exclude(unionid="").values_list("unionid", flat=True)
    )
    if not mine:
        return False
    return WeChatIdentity.objects.filter(user_id=referrer.pk, unionid__in=mine).exists()


def referral_block_reason(*, user: User, referrer: User | None) -> str:
    """Why `referrer` cannot be `user`'s referrer (empty string when it can). Reads only."""
    if referrer is None or not referrer.is_active:
        return Refusal.INVALID_CODE
    if referrer.pk == user.pk:
        return Refusal.SELF
    if user.phone_hash and user.phone_hash == referrer.phone_hash:
        return Refusal.SAME_PHONE
    if _same_wechat(user, referrer):
        return Refusal.SAME_WECHAT
    if user.pk and user.pk in upline_ids(referrer.pk):
        return Refusal.CYCLE
    if Promoter.objects.filter(user_id=referrer.pk, is_blocked=True).exists():
        return Refusal.BLOCKED
    return ""


def _record_refusal(*, user: User, referrer: User | None, code: str, reason: str, context: str) -> None:
    try:
        BindingRefusal.objects.create(
            user=user, referrer=referrer, code=code[:64], reason=reason, context=context[:16]
        )
    except Exception:  # noqa: BLE001 - evidence only; never break the caller
        logger.exception("could not record binding refusal")


def binding_create(
    *,
    user: User,
    referrer: User,
    source: str,
    code: str = "",
    channel: str = "",
    now: datetime | None = None,
) -> ReferralBinding:
    """Bind `user` to `referrer` once. Raises BindingRefused (already bound, self, cycle, same person)."""
    now = now or timezone.now()
    conf = ReferralSettings.current()
    with transaction.atomic():
        lock_binding_graph()
        current = (
            ReferralBinding.objects.select_for_update(of=("self",))
            .filter(user_id=user.pk, ended_at__isnull=True)
            .first()
        )
        if current is not None:
            if current.is_active(now):
                raise BindingRefused(Refusal.ALREADY_BOUND)
            current.ended_at = now
            current.end_reason = "expired"
            current.save(update_fields=["ended_at", "end_reason"])
        reason = referral_block_reason(user=user, referrer=referrer)
        if reason:
            raise BindingRefused(reason)
        try:
            with transaction.atomic():
                binding = ReferralBinding.objects.create(
                    user=user,
                    referrer=referrer,
                    code=(code or referrer.referral_code)[:16],
                    channel=(channel or "")[:20],
                    source=source,
                    bound_at=now,
                    expires_at=(
                        now + timedelta(days=conf.binding_validity_days)
                        if conf.binding_validity_days
                        else None
                    ),
                    protected_until=now + timedelta(days=conf.protection_days),
                )
        except IntegrityError:
            raise BindingRefused(Refusal.ALREADY_BOUND) from None
    return binding


def binding_try(
    *, user: User, referrer: User, source: str, code: str = "", channel: str = "", context: str = ""
) -> ReferralBinding | None:
    """binding_create that records a refusal instead of raising (sign-up and purchase hooks)."""
    try:
        return binding_create(user=user, referrer=referrer, source=source, code=code, channel=channel)
    except BindingRefused as exc:
        if exc.reason != Refusal.ALREADY_BOUND:
            _record_refusal(user=user, referrer=referrer, code=code, reason=exc.reason, context=context)
        return None


def binding_end(*, binding: ReferralBinding, actor, reason: str) -> ReferralBinding:
    """An operator dissolves a binding (e.g. a confirmed fraud case). Audited."""
    with transaction.atomic():
        locked = ReferralBinding.objects.select_for_update(of=("self",)).get(pk=binding.pk)
        if locked.ended_at is None:
            locked.ended_at = timezone.now()
            locked.end_reason = (reason or "operator")[:64]
            locked.save(update_fields=["ended_at", "end_reason"])
            audit_record(
                actor=actor,
                action="referrals.binding_end",
                target=locked,
                summary=f"解除推荐关系 {locked.referrer_id}→{locked.user_id}",
                reason=reason,
            )
    return locked


def on_user_signed_up(*, user: User, referral_code: str, source: str) -> None:
    """Members sign-up hook: bind the new user to the code's owner and count the sign-up.

    No reward of any kind is created here (commission is paid on real sales only).
    """
    token = parse_ref(referral_code)
    if token is None:
        return
    referrer = User.objects.filter(referral_code=token.code).first()
    if referrer is None:
        _record_refusal(
            user=user, referrer=None, code=str(token), reason=Refusal.INVALID_CODE, context="signup"
        )
        return
    binding = binding_try(
        user=user,
        referrer=referrer,
        source=ReferralBinding.Source.SIGNUP,
        code=token.code,
        channel=token.channel,
        context="signup",
    )
    if binding is not None:
        _link_stat_bump(referrer=referrer, channel=token.channel, signups=1)


@dataclass(frozen=True)
class Attribution:
    """Who an order is attributed to, and why."""

    referrer: User | None
    source: str  # "binding" | "code" | "override" | ""
    binding: ReferralBinding | None = None
    refused: str = ""


def attribution_for_order(*, user: User, referral_code: str = "", now: datetime | None = None) -> Attribution:
    """The referrer an order captures at creation. Reads only (quotes are also shown on pages)."""
    now = now or timezone.now()
    if not getattr(user, "pk", None):
        return Attribution(referrer=None, source="")
    binding = active_binding(user, now=now)
    token = parse_ref(referral_code)
    code_user = None
    refused = ""
    if token is not None and (binding is None or binding.referrer.referral_code != token.code):
        code_user = User.objects.filter(referral_code=token.code).first()
        refused = referral_block_reason(user=user, referrer=code_user)
        if refused:
            code_user = None
    if binding is not None:
        if code_user is not None:
            conf = ReferralSettings.current()
            if not conf.share_link_overrides_binding:
                return Attribution(binding.referrer, "binding", binding, Refusal.OVERRIDE_DISABLED)
            if binding.is_protected(now):
                return Attribution(binding.referrer, "binding", binding, Refusal.PROTECTED)
            return Attribution(code_user, "override", binding)
        return Attribution(binding.referrer, "binding", binding, refused)
    if code_user is not None:
        return Attribution(code_user, "code", None)
    return Attribution(None, "", None, refused)


def binding_on_first_purchase(order) -> ReferralBinding | None:
    """Paid listener step: an unbound buyer who paid through a valid code is bound to its owner."""
    if order.amount_fen <= 0 or order.referrer_id is None:
        return None
    token = parse_ref(order.referral_code)
    if token is None:
        return None
    if active_binding(order.user) is not None:
        return None
    referrer = User.objects.filter(referral_code=token.code).first()
    if referrer is None or referrer.pk != order.referrer_id:
        return None
    binding = binding_try(
        user=order.user,
        referrer=referrer,
        source=ReferralBinding.Source.PURCHASE,
        code=token.code,
        channel=token.channel,
        context="purchase",
    )
    return binding


# ---- promoters and levels ------------------------------------------------------------------------------


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
    from members.memberships.selectors import active_membership

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
    from payments.models import Order

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
        _notify(
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


# ---- agreements ----------------------------------------------------------------------------------------


def agreement_current(now: datetime | None = None) -> PromoterAgreement | None:
    now = now or timezone.now()
    return PromoterAgreement.objects.filter(published_at__lte=now).order_by("-version").first()


def agreement_required(now: datetime | None = None) -> PromoterAgreement | None:
    """The oldest version a promoter must have accepted to earn (latest version that asked for it)."""
    now = now or timezone.now()
    published = PromoterAgreement.objects.filter(published_at__lte=now)
    return (
        published.filter(requires_reacceptance=True).order_by("-version").first()
        or published.order_by("version").first()
    )


def agreement_accepted(user: User, now: datetime | None = None) -> bool:
    """True when no agreement is published yet, or the user accepted the required version or later."""
    required = agreement_required(now)
    if required is None:
        return True
    return AgreementAcceptance.objects.filter(
        user_id=user.pk, agreement__version__gte=required.version, agreement__published_at__isnull=False
    ).exists()


def agreement_accept(
    *, user: User, agreement: PromoterAgreement, ip: str = "", user_agent: str = ""
) -> AgreementAcceptance:
    """Record that the user accepted this published version (idempotent)."""
    if not agreement.is_published:
        raise ApplicationError("agreement_not_published", _("该协议版本尚未发布"), status_code=404)
    acceptance, _created = AgreementAcceptance.objects.get_or_create(
        user=user, agreement=agreement, defaults={"ip": ip[:64], "user_agent": user_agent[:255]}
    )
    promoter_get_or_create(user)
    return acceptance


def agreement_publish(*, agreement: PromoterAgreement, actor) -> PromoterAgreement:
    """Publish a draft version (published versions are never edited: publish a new version)."""
    with transaction.atomic():
        locked = PromoterAgreement.objects.select_for_update().get(pk=agreement.pk)
        if locked.published_at is None:
            locked.published_at = timezone.now()
            locked.save(update_fields=["published_at"])
            audit_record(
                actor=actor,
                action="referrals.agreement_publish",
                target=locked,
                summary=f"发布协议 v{locked.version}",
            )
    return locked


# ---- notifications ---------------------------------------------------------------------------------------


def _notify(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", subscribe_template: str = ""
) -> None:
    """In-site notification; also a WeChat subscribe message when the operator configured
    `subscribe_template` (e.g. "referral_commission") and the member has an opt-in left."""
    from members.notifications.services import notification_send

    notification_send(
        user=user, kind=kind, title=title[:200], body=body, url=url, subscribe_template=subscribe_template
    )


# ---- the quote adjuster (payments.items.add_quote_adjuster) ----------------------------------------------


def quote_adjust(*, user, item_type, item_id: str, quote, referral_code: str = ""):
    """Capture the order's referrer (`referrer_id` in the quote context) and apply promoter prices.

    Reads only: payments also calls it to show a price. The lowest applicable promoter price wins
    over the item's own price (discounts do not stack).
    """
    from payments.items import Quote

    if not getattr(user, "is_authenticated", False):
        return quote
    code = getattr(item_type, "code", str(item_type))
    attribution = attribution_for_order(user=user, referral_code=referral_code)
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
