"""The shape every state machine's audit trail shares (orders, withdrawals): one append-only row per
move, saying from what, to what, why, and who."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Why a move happened, as operators read it (the codes the services record; unknown ones show as typed).
REASON_LABELS = {
    "created": _("下单"),
    "payment": _("支付成功"),
    "free": _("免费领取"),
    "expired": _("超时未支付"),
    "refund_requested": _("申请退款"),
    "refund_succeeded": _("退款成功"),
    "refund_failed": _("退款失败"),
    "requested": _("会员申请"),
    "first_approval": _("一审通过"),
    "approved": _("审核通过"),
    "rejected": _("驳回"),
    "submitted": _("已提交微信转账"),
    "transfer_state": _("微信转账状态更新"),
    "transfer_query": _("查询微信转账结果"),
    "transfer_notification": _("微信转账通知"),
    "transfer_refused": _("微信拒绝转账"),
    "transfer_expired": _("收款确认超时"),
    "bank_transfer_recorded": _("已登记银行打款"),
    "cancelled_by_member": _("会员取消"),
}


def reason_label(code: str) -> str:
    """`free:sandbox` reads 免费领取（sandbox）; an unknown code is shown as recorded."""
    head, _sep, tail = code.partition(":")
    label = REASON_LABELS.get(head)
    if label is None:
        return code
    return f"{label}（{tail}）" if tail else str(label)


class TransitionEvent(models.Model):
    from_status = models.CharField(_("原状态"), max_length=24)
    to_status = models.CharField(_("新状态"), max_length=24)
    reason = models.CharField(_("原因"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status} ({self.reason})"

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

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
