"""The shape every state machine's audit trail shares (orders, withdrawals): one append-only row per
move, saying from what, to what, why, and who."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TransitionEvent(models.Model):
    from_status = models.CharField(max_length=24)
    to_status = models.CharField(max_length=24)
    reason = models.CharField(_("原因"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status} ({self.reason})"

    @classmethod
    def record(
        cls,
        *,
        from_status: str,
        to_status: str,
        reason: str,
        actor: object = None,
        details: Mapping[str, object] | None = None,
        **owner: Any,
    ) -> Self:
        """Append one move's row. `actor` only when it is a saved user (system moves have none);
        `details` kept JSON-safe (values other than int/str/bool/None stored as their text)."""
        # The concrete subclass's manager: an abstract model has none of its own.
        return cls._default_manager.create(
            **owner,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor=actor if getattr(actor, "pk", None) else None,
            details={
                k: (v if isinstance(v, (int, str, bool, type(None))) else str(v))
                for k, v in (details or {}).items()
            },
        )
