"""Sales credit at checkout (销售归属): who the rep of record of an order is, and the leads operators assign.

The rep of record is known before the member pays, and an order captures it at creation like its
referrer (`Order.sales_rep`, through `referrals.order_quote` — payments never imports referrals):

1. a member who already has a sales rep (`members.Onboarding.sales_rep`) keeps them: no order of theirs
   names another rep (a rep's link does not poach another rep's member; operators reassign in admin);
2. an open lead (`SalesLead`) an operator gave to a rep, matched by the user or their phone number;
3. the share link or code used at checkout (`/r/<code>`, `Order.referral_code`) when its owner is a rep;
4. the referrer the member is bound to (they signed up through the rep's link) when that is a rep.

A rep may be credited only while they are an active sales rep
(`members.onboarding.selectors.active_sales_reps`: active account, staff status, the 销售 role) and not a
blocked promoter; a blocked account's or a former employee's link gives no credit, and the member gets
a rep by rotation. When the order starts the membership, `members.onboarding.services.onboarding_start`
makes the rep of record the member's sales rep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.crypto import keyed_hash, normalize_phone
from core.errors import ApplicationError
from members.models import Onboarding, User
from members.onboarding.selectors import active_sales_reps
from payments.items import Quote
from referrals import attribution, codes
from referrals.models import Promoter, SalesLead


@dataclass(frozen=True)
class SalesCredit:
    """The rep of record for an order and where it came from ("lead" | "link" | "binding" | "")."""

    rep: User | None
    source: str = ""


def rep_may_be_credited(user: User | None) -> bool:
    """An active sales rep who is not a blocked promoter."""
    if user is None or not user.pk:
        return False
    if not active_sales_reps().filter(pk=user.pk).exists():
        return False
    return not Promoter.objects.filter(user_id=user.pk, is_blocked=True).exists()


def phone_hash_for(raw_phone: str) -> str:
    """The lookup key of a phone number (the same keyed hash as `User.phone_hash`)."""
    phone = normalize_phone(raw_phone)
    return keyed_hash(phone, purpose="phone") if phone else ""


def _open_leads(user: User):
    """The user's open leads (by the user, or by their phone number), the latest assignment first."""
    match = Q(user_id=user.pk)
    if user.phone_hash:
        match |= Q(phone_hash=user.phone_hash)
    return SalesLead.objects.filter(match, ended_at__isnull=True).order_by("-assigned_at", "-id")


def open_lead_for(user: User) -> SalesLead | None:
    return _open_leads(user).select_related("rep").first()


def _rep_facts(user: User) -> tuple[bool, int | None]:
    """(has the user a sales rep already?, their open lead's id) in one statement: checkout asks both
    of every order, and most buyers have neither."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_rep=Exists(Onboarding.objects.filter(user_id=OuterRef("pk"), sales_rep__isnull=False)),
            lead_id=Subquery(_open_leads(user).values("pk")[:1]),
        )
        .values_list("has_rep", "lead_id")
        .first()
    )
    return (bool(row[0]), row[1]) if row else (False, None)


# `binding` when the caller has not read the buyer's referral binding yet (None is a read: no binding).
UNREAD = object()


def sales_credit_for_order(
    *, user: User, referral_code: str = "", now: datetime | None = None, binding: Any = UNREAD
) -> SalesCredit:
    """The rep an order of `user` credits (module docstring for the order of sources). Reads only.

    `binding` is the buyer's active referral binding (or None) when the caller already read it for
    the order's referrer, so checkout reads it once (`referrals.order_quote`)."""
    if not getattr(user, "pk", None):
        return SalesCredit(None)
    has_rep, lead_id = _rep_facts(user)
    if has_rep:
        return SalesCredit(None)  # their assigned rep is credited at the close (staff_share)
    lead = SalesLead.objects.select_related("rep").get(pk=lead_id) if lead_id is not None else None
    if lead is not None and lead.rep_id != user.pk and rep_may_be_credited(lead.rep):
        return SalesCredit(lead.rep, "lead")
    token = codes.parse_ref(referral_code)
    if token is not None:
        owner = User.objects.filter(referral_code=token.code).first()
        if owner is not None and owner.pk != user.pk and rep_may_be_credited(owner):
            return SalesCredit(owner, "link")
    if binding is UNREAD:
        binding = attribution.active_binding(user, now=now)
    if binding is not None and rep_may_be_credited(binding.referrer):
        return SalesCredit(binding.referrer, "binding")
    return SalesCredit(None)


def quote_with_rep(*, quote: Quote, credit: SalesCredit) -> Quote:
    """The quote with the order's rep of record (`sales_rep_id` in its context), if any."""
    if credit.rep is None:
        return quote
    return Quote(
        quote.title,
        quote.list_price_fen,
        quote.lines,
        {**quote.context, "sales_rep_id": credit.rep.pk, "sales_rep_source": credit.source},
    )


# ---- leads ---------------------------------------------------------------------------------------------


def sales_lead_check(*, rep: User, user: User | None, phone: str) -> tuple[User | None, str]:
    """Validate a lead (reads only; the admin form asks before saving): (the user, the phone's hash).
    A phone number that belongs to a user makes the lead that user's."""
    if not rep_may_be_credited(rep):
        raise ApplicationError(
            "not_a_rep",
            _("%(name)s 不是在职的销售顾问") % {"name": rep},
            fields={"rep": [_("请选择在职的销售顾问")]},
        )
    phone_hash = phone_hash_for(phone) if phone else ""
    if phone and not phone_hash:
        raise ApplicationError("invalid_phone", _("手机号无效"), fields={"phone": [_("手机号无效")]})
    if user is None and phone_hash:
        user = User.objects.filter(phone_hash=phone_hash).first()
    if user is None and not phone_hash:
        raise ApplicationError(
            "lead_needs_person", _("请选择客户或填写手机号"), fields={"user": [_("请选择客户或填写手机号")]}
        )
    if user is not None:
        if user.pk == rep.pk:
            raise ApplicationError(
                "lead_is_rep", _("不能把销售顾问分配给自己"), fields={"user": [_("不能把销售顾问分配给自己")]}
            )
        if Onboarding.objects.filter(user_id=user.pk, sales_rep__isnull=False).exists():
            raise ApplicationError(
                "lead_already_member",
                _("该会员已有销售顾问，请在入会引导中转交"),
                fields={"user": [_("该会员已有销售顾问，请在入会引导中转交")]},
            )
    return user, phone_hash


def sales_lead_assign(
    *, rep: User, actor, user: User | None = None, phone: str = "", note: str = "", now=None
) -> SalesLead:
    """An operator gives a prospective member (a user, or a phone number) to a rep. A newer assignment
    of the same person ends the open one. Members who already have a sales rep are moved in the
    onboarding admin instead. Audited."""
    now = now or timezone.now()
    user, phone_hash = sales_lead_check(rep=rep, user=user, phone=phone)
    with transaction.atomic():
        match = Q(user_id=user.pk) if user is not None else Q(pk__in=[])
        if phone_hash:
            match |= Q(phone_hash=phone_hash)
        previous = list(
            SalesLead.objects.select_for_update(of=("self",))
            .filter(match, ended_at__isnull=True)
            .order_by("pk")
        )
        for old in previous:
            old.ended_at, old.ended_by, old.end_reason = now, _actor(actor), "reassigned"
            old.save(update_fields=["ended_at", "ended_by", "end_reason"])
        try:
            with transaction.atomic():
                lead = SalesLead.objects.create(
                    user=user,
                    phone=normalize_phone(phone) if phone_hash else "",
                    phone_hash=phone_hash,
                    rep=rep,
                    note=(note or "")[:200],
                    assigned_by=_actor(actor),
                    assigned_at=now,
                )
        except IntegrityError:
            raise ApplicationError(
                "lead_assigned_concurrently", _("该客户刚被分配，请刷新后重试"), status_code=409
            ) from None
        audit_record(
            actor=actor,
            action="referrals.sales_lead_assign",
            target=lead,
            summary=f"分配销售线索 → {rep.pk}",
            rep=rep.pk,
            user=user.pk if user is not None else None,
            ended=[old.pk for old in previous],
        )
    return lead


def sales_lead_end(*, lead: SalesLead, actor, reason: str = "") -> SalesLead:
    """An operator closes a lead (no longer followed up). Audited."""
    with transaction.atomic():
        locked = SalesLead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
        if locked.ended_at is None:
            locked.ended_at, locked.ended_by = timezone.now(), _actor(actor)
            locked.end_reason = (reason or "operator")[:64]
            locked.save(update_fields=["ended_at", "ended_by", "end_reason"])
            audit_record(
                actor=actor,
                action="referrals.sales_lead_end",
                target=locked,
                summary="结束销售线索",
                reason=reason,
            )
    return locked


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None
