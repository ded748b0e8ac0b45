"""Giving coupons to members: a claim link, a public code entered at checkout (`growth.coupons.holds`),
an operator or a segment or campaign (`coupon_issue`), and automatically when a camp term is completed.

Every copy is issued under the coupon's row lock (the limits count copies), and each carries a source
key: issuing again for the same (coupon, member, source key) gives the copy already issued, so a
campaign job that runs twice, or a replayed claim, issues once (a database constraint).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from growth.coupons import rules
from growth.models import Coupon, MemberCoupon

logger = logging.getLogger(__name__)

# The redeem codes' alphabet (no 0/O, 1/I/L): a copy's code is read aloud to support and typed.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
COPY_CODE_LENGTH = 10


def new_copy_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(COPY_CODE_LENGTH))


def copy_create(*, coupon: Coupon, user, source: str, source_key: str, actor, now: datetime) -> MemberCoupon:
    """Inside the coupon's lock: one copy (the caller checked the limits)."""
    valid_from, valid_until = rules.window_for_new_copy(coupon, now)
    return MemberCoupon.objects.create(
        coupon=coupon,
        user=user,
        code=new_copy_code(),
        source=source,
        source_key=source_key[:64],
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=actor if getattr(actor, "pk", None) else None,
    )


@dataclass
class IssueResult:
    issued: list[MemberCoupon] = field(default_factory=list)
    already: int = 0  # had a copy for this source key
    refused: int = 0  # at the per-member or total issue limit


def coupon_issue(*, coupon: Coupon, users: Iterable, source: str, actor, source_key: str = "") -> IssueResult:
    """Give one copy to each member, for `source` (operator, segment, campaign, event). Idempotent per
    (coupon, member, source key; the source by default); members at the per-member limit, and those
    past the issue limit, are skipped and counted. Three statements for any number of members."""
    if source not in MemberCoupon.Source.values:
        raise ApplicationError("invalid_source", _("未知的发放来源"))
    key = (source_key or source)[:64]
    result = IssueResult()
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        now = timezone.now()
        if not coupon.is_active or (coupon.ends_at is not None and now >= coupon.ends_at):
            raise rules.refusal("coupon_expired", _("该优惠券已结束发放"))
        wanted = {user.pk: user for user in users if getattr(user, "pk", None)}
        live = ~Q(state=MemberCoupon.State.REVOKED)
        copies = MemberCoupon.objects.filter(coupon=coupon)
        had_key = set(copies.filter(user_id__in=wanted, source_key=key).values_list("user_id", flat=True))
        held = dict(
            copies.filter(live, user_id__in=wanted).values_list("user_id").annotate(n=Count("pk")).order_by()
        )
        room = None if coupon.issue_limit is None else coupon.issue_limit - copies.filter(live).count()
        fresh: list[MemberCoupon] = []
        for user_id, user in sorted(wanted.items()):
            if user_id in had_key:
                result.already += 1
                continue
            if held.get(user_id, 0) >= coupon.per_member_limit or (room is not None and len(fresh) >= room):
                result.refused += 1
                continue
            valid_from, valid_until = rules.window_for_new_copy(coupon, now)
            fresh.append(
                MemberCoupon(
                    coupon=coupon,
                    user=user,
                    code=new_copy_code(),
                    source=source,
                    source_key=key,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    issued_by=actor if getattr(actor, "pk", None) else None,
                    issued_at=now,
                )
            )
        result.issued = MemberCoupon.objects.bulk_create(fresh)
        if result.issued and source == MemberCoupon.Source.OPERATOR:
            audit_record(
                actor=actor,
                action="growth.coupon_issue",
                target=coupon,
                summary=f"发放优惠券「{coupon.name}」{len(result.issued)} 张",
                issued=len(result.issued),
                source_key=key,
            )
    return result


def coupon_claim(*, user, token: str) -> MemberCoupon:
    """A member claims a copy through the coupon's link. Refused: an unknown or closed link
    (`coupon_invalid`), a coupon no longer given (`coupon_expired`), the member's or the total limit
    (`coupon_exhausted`)."""
    token = (token or "").strip()
    if not token or not getattr(user, "is_authenticated", False):
        raise rules.invalid()
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().filter(claim_token=token, claim_enabled=True).first()
        if coupon is None:
            raise rules.refusal("coupon_invalid", _("领取链接无效或已关闭"))
        now = timezone.now()
        usage = rules.usage_of(coupon, user)
        problem = rules.issue_refusal(coupon, usage, now)
        if problem is not None:
            raise problem
        claims = MemberCoupon.objects.filter(
            coupon=coupon, user=user, source=MemberCoupon.Source.CLAIM
        ).count()
        return copy_create(
            coupon=coupon,
            user=user,
            source=MemberCoupon.Source.CLAIM,
            source_key=f"claim-{claims + 1}",
            actor=user,
            now=now,
        )


def issue_on_camp_completed(seat) -> None:
    """courses' term-completed hook: the coupons set to be given at a camp's graduation, once per term."""
    for coupon in Coupon.objects.filter(auto_issue_on=Coupon.AutoIssue.CAMP_COMPLETED, is_active=True):
        try:
            coupon_issue(
                coupon=coupon,
                users=[seat.user],
                source=MemberCoupon.Source.EVENT,
                actor=None,
                source_key=f"camp-term-{seat.term_id}",
            )
        except ApplicationError as exc:  # a coupon that ended meanwhile: the graduation still stands
            logger.info("coupon %s not issued for seat %s: %s", coupon.pk, seat.pk, exc.code)


def member_coupon_revoke(*, copy: MemberCoupon, operator, reason: str = "") -> bool:
    """End a copy not yet used or held (sent to the wrong member). Records who. False if it could not be."""
    with transaction.atomic():
        ended = MemberCoupon.objects.filter(pk=copy.pk, state=MemberCoupon.State.AVAILABLE).update(
            state=MemberCoupon.State.REVOKED,
            revoked_at=timezone.now(),
            revoked_by=operator if getattr(operator, "pk", None) else None,
        )
        if ended:
            audit_record(
                actor=operator,
                action="growth.member_coupon_revoke",
                target=copy,
                summary=f"作废优惠券 {copy.code}" + (f"：{reason}" if reason else ""),
            )
    return bool(ended)
