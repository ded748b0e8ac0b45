"""The promoter agreement (推广员协议): the current and the required version, whether a promoter has
accepted what is required to earn, recording an acceptance, publishing a version."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import ApplicationError
from members.models import User
from referrals.models import AgreementAcceptance, PromoterAgreement
from referrals.promoters import promoter_get_or_create


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
