"""The operator's programme settings (`ReferralSettings`): the one write that changes them, recording
who accepted the compliance risk when level 2 is switched on (docs/architecture.md §2)."""

from __future__ import annotations

from django.utils import timezone

from core.audit import audit_record
from referrals.models import ReferralSettings


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
