"""Attribution: who brought whom (bindings) and which referrer an order captures.

Rules (docs/architecture.md §2, issue #8):
- a user is bound to a referrer once: by the first valid code at sign-up, or (if they signed up
  without one) by the code of their first paid purchase; the binding lasts `binding_validity_days`
  (0 = for ever) and can be replaced only after it expired;
- self-referral, cycles (A→B and B→A), and a referrer sharing the user's WeChat unionid or phone are
  refused and recorded (`BindingRefusal`);
- an order captures its referrer at creation (`attribution_for_order`, via the quote adjuster in
  `referrals.promoters`): the bound referrer, unless the operator lets an explicit share-link code
  win — never inside the binding's protection period (anti-poaching).
Commission never depends on a sign-up: binding creates no reward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import ApplicationError
from core.models import WeChatIdentity
from members.models import User
from referrals.codes import link_stat_bump, parse_ref
from referrals.locks import lock_binding_graph
from referrals.models import BindingRefusal, Promoter, ReferralBinding, ReferralSettings

logger = logging.getLogger(__name__)

UPLINE_HOPS_LIMIT = 1000


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
    # Where the code was offered (BindingRefusal.context), as operators read it.
    CONTEXTS = {"signup": gettext_lazy("注册"), "purchase": gettext_lazy("下单")}


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


def upline_ids(user_id: int, *, limit: int = UPLINE_HOPS_LIMIT) -> list[int]:
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
        link_stat_bump(referrer=referrer, channel=token.channel, signups=1)


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
