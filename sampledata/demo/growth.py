"""Demo data of growth: a company's batch of VIP redeem codes (兑换码), so an operator finds one in
admin (销售与订单 → 兑换码批次) and the demo member can redeem a code at 我的 → 兑换码. Idempotent: the
batch is made once, through the real service (random codes, audit row)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from growth.models import RedeemCodeBatch
from growth.redeem_codes.services import batch_create

BATCH_NAME = "演示 · 星河科技 VIP 团购"


def seed(*, stdout, history: bool = False) -> None:
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
