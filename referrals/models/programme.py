"""referrals: the operator's programme settings (`ReferralSettings`, one row) and the depth limit.

Compliance is designed into the schema (docs/architecture.md §2): commission levels are 1 (the direct
referrer) or 2 (an operator opt-in); `MAX_COMMISSION_LEVEL` is the bound every table that carries a
level checks in a CHECK constraint, so depth > 2 is impossible even for raw ORM writes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "MAX_COMMISSION_LEVEL",
    "ReferralSettings",
]


MAX_COMMISSION_LEVEL = 2


class ReferralSettings(models.Model):
    """Operator settings (a single row, pk=1)."""

    binding_validity_days = models.PositiveIntegerField(
        _("绑定有效期（天）"),
        default=365,
        help_text=_("客户与推广员的绑定关系保持多久；0 表示永久有效。过期后客户可被新的推广链接重新绑定。"),
    )
    protection_days = models.PositiveIntegerField(
        _("客户保护期（天）"),
        default=30,
        help_text=_("保护期内，即使开启“分享链接优先”，其他推广员的链接也不能抢走已绑定客户。"),
    )
    share_link_overrides_binding = models.BooleanField(
        _("分享链接优先于绑定关系"),
        default=False,
        help_text=_("开启后，客户通过另一位推广员的分享链接下单时，该订单的佣金归分享者（保护期外）。"),
    )
    commission_depth = models.PositiveSmallIntegerField(
        _("分佣层级"),
        default=1,
        choices=[(1, _("仅一级（直接推荐人）")), (2, _("二级（需确认合规风险）"))],
        help_text=_("默认只给直接推荐人分佣。二级分佣存在被认定为传销的风险，三级及以上在数据库层面禁止。"),
    )
    level2_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("二级分佣风险确认人"),
    )
    level2_acknowledged_at = models.DateTimeField(_("二级分佣风险确认时间"), null=True, blank=True)
    earning_requires_membership = models.BooleanField(
        _("仅会员可获得佣金"),
        default=False,
        help_text=_("不建议开启：把购买作为推广资格的条件，有“入门费”之嫌。"),
    )
    leaderboard_size = models.PositiveSmallIntegerField(_("排行榜人数"), default=10)

    class Meta:
        verbose_name = _("推广设置")
        verbose_name_plural = _("推广设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_depth__gte=1) & Q(commission_depth__lte=MAX_COMMISSION_LEVEL),
                name="referral_settings_depth_at_most_2",
            ),
            models.CheckConstraint(
                condition=Q(binding_validity_days=0) | Q(protection_days__lte=F("binding_validity_days")),
                name="referral_protection_within_validity",
            ),
        ]

    def __str__(self) -> str:
        return str(_("推广设置"))

    @classmethod
    def current(cls) -> ReferralSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
