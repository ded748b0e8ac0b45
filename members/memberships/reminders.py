"""The daily membership sweep: renewal reminders 30/7/1 days before the end and the expiry notice, each
exactly once per end date (a unique MembershipReminder row claims it)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from members.memberships.selectors import days_left
from members.models import Membership, MembershipReminder
from members.notifications.services import notification_send

REMINDER_DAYS = (1, 7, 30)


def memberships_sweep(*, now=None, batch_size: int = 500) -> dict[str, int]:
    """Daily: remind at 30/7/1 days before the end (the nearest threshold not yet sent for this end
    date, so a missed day still reminds), and notify once when a membership has expired.

    Each reminder is claimed by inserting its unique row; a second run (or a second worker) finds
    the row there and sends nothing.
    """
    now = now or timezone.now()
    counts = {"reminded": 0, "expired": 0}
    horizon = now + timedelta(days=max(REMINDER_DAYS) + 1)
    due = (
        Membership.objects.select_related("tier", "user")
        .filter(ends_at__gt=now, ends_at__lte=horizon)
        .order_by("ends_at")
    )
    for membership in due.iterator(chunk_size=batch_size):
        left = days_left(membership, now=now)
        threshold = next((d for d in REMINDER_DAYS if left <= d), None)
        if threshold is None:
            continue
        kinds = [str(d) for d in REMINDER_DAYS if d <= threshold]
        if MembershipReminder.objects.filter(
            membership=membership, ends_at=membership.ends_at, kind__in=kinds
        ).exists():
            continue  # this (or a nearer) reminder went out for this end date already
        if _claim_reminder(membership, str(threshold)):
            counts["reminded"] += 1
            _send_renewal_reminder(membership, left)
    expired = (
        Membership.objects.select_related("tier", "user")
        .filter(ends_at__lte=now, ends_at__gt=now - timedelta(days=30))
        .filter(ends_at__gt=F("starts_at"))
        .exclude(
            Exists(
                MembershipReminder.objects.filter(
                    membership=OuterRef("pk"),
                    kind=MembershipReminder.Kind.EXPIRED,
                    ends_at=OuterRef("ends_at"),
                )
            )
        )
        .order_by("ends_at")
    )
    for membership in expired.iterator(chunk_size=batch_size):
        if _claim_reminder(membership, MembershipReminder.Kind.EXPIRED):
            counts["expired"] += 1
            notification_send(
                user=membership.user,
                kind="membership_expired",
                title=_("您的%(tier)s已到期") % {"tier": membership.tier.name},
                body=_("续费后立即恢复全部会员权益，会员编号保持不变。"),
                url=f"/membership/{membership.tier.code}/",
                subscribe_template="renewal_reminder",
                subscribe_data={
                    "thing1": _("%(tier)s已到期") % {"tier": membership.tier.name},
                    "time2": timezone.localtime(membership.ends_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
    return counts


def _claim_reminder(membership: Membership, kind: str) -> bool:
    try:
        with transaction.atomic():
            MembershipReminder.objects.create(membership=membership, kind=kind, ends_at=membership.ends_at)
    except IntegrityError:
        return False
    return True


def _send_renewal_reminder(membership: Membership, left: int) -> None:
    ends = timezone.localtime(membership.ends_at)
    title = (
        _("您的%(tier)s将于明天到期") % {"tier": membership.tier.name}
        if left <= 1
        else _("您的%(tier)s将在 %(n)s 天后到期") % {"tier": membership.tier.name, "n": left}
    )
    notification_send(
        user=membership.user,
        kind="renewal_reminder",
        title=title,
        body=_("到期时间 %(ends)s。续费从到期日起顺延，权益不中断。")
        % {"ends": ends.strftime("%Y-%m-%d %H:%M")},
        url=f"/membership/{membership.tier.code}/",
        subscribe_template="renewal_reminder",
        subscribe_data={
            "thing1": title,
            "time2": ends.strftime("%Y-%m-%d %H:%M"),
        },
    )
