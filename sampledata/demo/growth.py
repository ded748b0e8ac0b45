"""Demo data of growth: a company's batch of VIP redeem codes (兑换码), so an operator finds one in
admin (销售与订单 → 兑换码批次) and the demo member can redeem a code at 我的 → 兑换码; the segment
"VIP whose membership ends within 30 days" with a draft campaign to it, two tags (增长工具 in
admin), and a coupon with a public code and an open claim link (销售与订单 → 优惠券), to type at
checkout. Idempotent: each is made once, the batch through the real service (random codes, audit
row), the rules through the rule validator."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from growth.models import Campaign, Coupon, RedeemCodeBatch, Segment, Tag
from growth.redeem_codes.services import batch_create
from growth.segments.rules import rule_preview, rule_validate
from growth.segments.tags import rule_tag_recompute
from members.memberships.grants import membership_grant_manual
from members.models import MembershipTier
from sampledata.demo.clock import at, days_ago
from sampledata.demo.members import DEMO_PASSWORD

BATCH_NAME = "演示 · 星河科技 VIP 团购"
SEGMENT_NAME = "VIP 30 天内到期"
CAMPAIGN_NAME = "演示 · VIP 续费提醒"
RENEWAL_MEMBER = "demo_vip_renewal"
COUPON_CODE = "WELCOME50"


def seed(*, stdout, history: bool = False) -> None:
    seed_coupons(stdout=stdout)
    seed_segments(stdout=stdout)
    seed_redeem_codes(stdout=stdout)  # last: its line ends with a code to try (tests read it there)


def seed_coupons(*, stdout) -> None:
    coupon, _made = Coupon.objects.get_or_create(
        code=COUPON_CODE,
        defaults={
            "name": "新人立减 50 元",
            "kind": Coupon.Kind.AMOUNT,
            "amount_off_fen": 5_000,
            "min_spend_fen": 9_900,
            "valid_days": 30,
            "claim_enabled": True,
            "created_by": get_user_model().objects.filter(username="operator").first(),
        },
    )
    stdout.write(
        f"growth: coupon «{coupon.name}», code {COUPON_CODE} at checkout, "
        f"claim link /growth/coupons/claim/{coupon.claim_token}/\n"
    )


def seed_redeem_codes(*, stdout) -> None:
    batch = RedeemCodeBatch.objects.filter(name=BATCH_NAME).first()
    if batch is None:
        batch = batch_create(
            name=BATCH_NAME,
            item_type="membership",
            item_id="VIP",
            size=20,
            expires_at=timezone.now() + timedelta(days=90),
            created_by=get_user_model().objects.filter(username="operator").first(),
            note="演示数据：企业采购 20 个 VIP 名额",
        )
    unused = batch.codes.filter(redeemed_by__isnull=True, revoked_at__isnull=True).first()
    stdout.write(
        f"growth: redeem code batch «{batch.name}» ({batch.size} codes)"
        + (f"; try one at /growth/redeem/: {unused.display}" if unused else "")
    )


def seed_segments(*, stdout) -> None:
    """A VIP who joined 340 days ago (so the renewal segment has someone in it), the renewal segment,
    a draft campaign to it (an operator schedules it in admin), a manual tag and a rule tag."""
    operator = get_user_model().objects.filter(username="operator").first()
    User = get_user_model()
    if operator is not None and not User.objects.filter(username=RENEWAL_MEMBER).exists():
        with at(days_ago(340, hour=10)):
            member = User.objects.create_user(
                username=RENEWAL_MEMBER, nickname="孙悦", password=DEMO_PASSWORD
            )
            membership_grant_manual(
                user=member,
                tier=MembershipTier.objects.get(code="VIP"),
                days=365,
                operator=operator,
                reason="线下付款，运营开通",
            )
    segment, _created = Segment.objects.get_or_create(
        name=SEGMENT_NAME,
        defaults={
            "description": "VIP 会员，会员将在 30 天内到期（续费提醒的对象）",
            "rule": rule_validate(
                {"conditions": [{"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30}]}
            ),
            "created_by": operator,
        },
    )
    if operator is not None:
        Campaign.objects.get_or_create(
            name=CAMPAIGN_NAME,
            defaults={
                "segment": segment,
                "title": "你的 VIP 会员即将到期",
                "body": "续费后从到期日起顺延 365 天，课程、活动和圈子权益不中断。",
                "link": "/membership/VIP/",
                "created_by": operator,
            },
        )
    Tag.objects.get_or_create(name="重点客户", defaults={"kind": Tag.Kind.MANUAL, "colour": "#d93026"})
    idle, _created = Tag.objects.get_or_create(
        name="30 天未访问",
        defaults={
            "kind": Tag.Kind.RULE,
            "rule": rule_validate({"conditions": [{"type": "activity", "visited": False, "days": 30}]}),
        },
    )
    rule_tag_recompute(tag_id=idle.pk)
    stdout.write(
        f"growth: segment «{segment.name}» ({rule_preview(segment.rule).count} members), "
        f"draft campaign «{CAMPAIGN_NAME}», tags 重点客户 / 30 天未访问"
    )
