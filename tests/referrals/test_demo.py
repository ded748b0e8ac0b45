"""The demo data: idempotent, with a non-zero direct commission on membership sales (API.md)."""

from __future__ import annotations

import io

import pytest

from core.models import AuditLog
from members.models import User
from referrals import agreements, commissions, promoters
from referrals.models.agreements import PromoterAgreement
from referrals.models.attribution import ReferralBinding
from referrals.models.commissions import CommissionRule
from referrals.models.group_buys import GroupBuyOffer
from referrals.models.promoters import PromoterLevel, PromoterPrice
from sampledata.demo import members as members_demo
from sampledata.demo import referrals as referrals_demo

pytestmark = pytest.mark.django_db


def test_seed_twice_gives_the_same_data_with_a_membership_commission():
    members_demo.seed(stdout=io.StringIO())
    referrals_demo.seed(stdout=io.StringIO())
    counts = [
        m.objects.count()
        for m in (
            PromoterLevel,
            PromoterPrice,
            CommissionRule,
            GroupBuyOffer,
            PromoterAgreement,
            ReferralBinding,
            AuditLog,
        )
    ]
    referrals_demo.seed(stdout=io.StringIO())
    assert counts == [
        m.objects.count()
        for m in (
            PromoterLevel,
            PromoterPrice,
            CommissionRule,
            GroupBuyOffer,
            PromoterAgreement,
            ReferralBinding,
            AuditLog,
        )
    ]
    rate = commissions.rate_for(item_type="membership", item_id="VIP", level=1, promoter_level=None)
    assert rate.rate_bp > 0
    assert PromoterLevel.objects.get(is_default=True).code == "normal"
    assert agreements.agreement_current().version == 1
    promoter = User.objects.get(username="promoter")
    assert agreements.agreement_accepted(promoter) and promoters.promoter_level_of(promoter).code == "kol"
    assert ReferralBinding.objects.get(user__username="friend").referrer == promoter
