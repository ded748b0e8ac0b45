"""Record operator actions on money and memberships (refunds, withdrawals, grants…)."""

from typing import Any

from django.db import models

from core.models import AuditLog


def audit_record(
    *, actor: Any, action: str, target: models.Model, summary: str = "", **details: Any
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        summary=summary[:255],
        details={
            k: (v if isinstance(v, (int, str, float, bool, type(None), list, dict)) else str(v))
            for k, v in details.items()
        },
    )
