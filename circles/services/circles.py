"""Circles and their rules (社群公约): creating a circle, its owner's membership row, publishing a
new rules version and a member accepting it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleMembership, CircleRules, RulesAcceptance
from circles.services.memberships import membership_lock
from circles.services.permissions import require_reader
from circles.text import plain_text
from core.errors import ApplicationError

Role = CircleMembership.Role
MStatus = CircleMembership.Status


def circle_owner_ensure(*, circle: Circle) -> CircleMembership:
    """The owner always has an owner-role membership row (created with the circle or on owner change)."""
    now = timezone.now()
    membership, created = CircleMembership.objects.get_or_create(
        circle=circle,
        user_id=circle.owner_id,
        defaults={"role": Role.OWNER, "joined_at": now, "accepted_rules_version": circle.rules_version},
    )
    if not created and (membership.role != Role.OWNER or membership.status != MStatus.ACTIVE):
        membership.role, membership.status = Role.OWNER, MStatus.ACTIVE
        membership.save(update_fields=["role", "status", "updated_at"])
    CircleMembership.objects.filter(circle=circle, role=Role.OWNER).exclude(user_id=circle.owner_id).update(
        role=Role.ADMIN
    )
    return membership


@transaction.atomic
def circle_create(
    *,
    owner,
    name: str,
    intro: str = "",
    price_fen: int = 0,
    pricing_mode: str = Circle.PricingMode.DURATION,
    duration_days: int = 365,
    window_starts_at: datetime | None = None,
    window_ends_at: datetime | None = None,
    late_join: str = Circle.LateJoin.FULL,
    trial_days: int = 0,
    rules_body: str = "",
    tiers=(),
    **options,
) -> Circle:
    circle = Circle(
        owner=owner,
        name=name,
        intro=intro,
        price_fen=price_fen,
        pricing_mode=pricing_mode,
        duration_days=duration_days,
        window_starts_at=window_starts_at,
        window_ends_at=window_ends_at,
        late_join=late_join,
        trial_days=trial_days,
        **options,
    )
    circle.full_clean()
    circle.save()
    if tiers:
        circle.included_in_tiers.set(tiers)
    circle_owner_ensure(circle=circle)
    if rules_body:
        circle_rules_publish(circle=circle, body=rules_body, actor=owner)
    return circle


def circle_rules_publish(*, circle: Circle, body: str, actor) -> CircleRules:
    """A new rules version; every member (the owner excepted) must accept it before posting again."""
    body = plain_text(body)
    if not body:
        raise ApplicationError("invalid", _("公约内容不能为空"), fields={"body": [_("必填")]})
    with transaction.atomic():
        locked = Circle.objects.select_for_update(of=("self",)).get(pk=circle.pk)
        version = locked.rules_version + 1
        rules = CircleRules.objects.create(circle=locked, version=version, body=body, created_by=actor)
        Circle.objects.filter(pk=locked.pk).update(rules_version=version)
        CircleMembership.objects.filter(circle=locked, user_id=locked.owner_id).update(
            accepted_rules_version=version
        )
    circle.rules_version = version
    return rules


def circle_rules_accept(*, circle: Circle, user) -> RulesAcceptance | None:
    """Accept the current rules version (needs read access). Tier members get a membership row here."""
    circle.refresh_from_db(fields=["rules_version"])
    access = require_reader(user, circle)
    version = circle.rules_version
    if version == 0:
        return None
    with transaction.atomic():
        acceptance, _created = RulesAcceptance.objects.get_or_create(
            circle=circle, user=user, version=version
        )
        membership = membership_lock(circle=circle, user=user)
        if membership is None:
            membership = CircleMembership.objects.create(
                circle=circle,
                user=user,
                role=Role.MEMBER,
                joined_at=timezone.now(),
                via_tier=access.via_tier,
                accepted_rules_version=version,
            )
        elif membership.accepted_rules_version < version:
            membership.accepted_rules_version = version
            fields = ["accepted_rules_version", "updated_at"]
            if access.via_tier and membership.status != MStatus.ACTIVE:
                membership.status, membership.via_tier = MStatus.ACTIVE, True
                fields += ["status", "via_tier"]
            membership.save(update_fields=fields)
    return acceptance
