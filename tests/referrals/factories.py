"""Builders for the referrals tests (rules, levels, agreements, offers, bindings)."""

from __future__ import annotations

from django.utils import timezone

from referrals import attribution
from referrals.models import (
    CommissionRule,
    GroupBuyOffer,
    PromoterAgreement,
    PromoterLevel,
    ReferralBinding,
    ReferralSettings,
)
from tests.payments.catalog import TEST_ITEM


def rule(*, item_type: str = TEST_ITEM, rate_bp: int = 1000, level: int = 1, **extra) -> CommissionRule:
    return CommissionRule.objects.create(item_type=item_type, rate_bp=rate_bp, level=level, **extra)


def configure(**values) -> ReferralSettings:
    conf = ReferralSettings.current()
    for name, value in values.items():
        setattr(conf, name, value)
    conf.save()
    return conf


def level(code: str, rank: int, **extra) -> PromoterLevel:
    return PromoterLevel.objects.create(code=code, name=extra.pop("name", code.upper()), rank=rank, **extra)


def agreement(version: int = 1, *, published: bool = True, **extra) -> PromoterAgreement:
    return PromoterAgreement.objects.create(
        version=version,
        title=extra.pop("title", f"推广员协议 v{version}"),
        body=extra.pop("body", "只按真实成交分佣，不按拉人头计酬。"),
        published_at=timezone.now() if published else None,
        **extra,
    )


def bind(user, referrer, **extra) -> ReferralBinding:
    return attribution.binding_create(
        user=user, referrer=referrer, source=ReferralBinding.Source.SIGNUP, **extra
    )


def offer(*, item_type: str = TEST_ITEM, item_id: str = "A", size: int = 3, price_fen: int = 5000, **extra):
    return GroupBuyOffer.objects.create(
        item_type=item_type,
        item_id=item_id,
        title=extra.pop("title", "三人拼团"),
        group_size=size,
        group_price_fen=price_fen,
        time_limit_hours=extra.pop("time_limit_hours", 24),
        **extra,
    )
