"""The points mall (积分商城): redeeming a reward for points, granted by a free order of the reward's item."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from members.models import Redemption, Reward, User
from members.points.services import points_spend
from payments.orders.checkout import order_create_free


def points_redeem(*, user: User, reward_id: int, idempotency_key: str) -> Redemption:
    """Spend points on a reward, exactly once per key: the points, the free order (which the item's
    own `fulfill` grants) and the stock move in one transaction, or not at all."""
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise ApplicationError(
            "invalid", _("缺少兑换编号"), fields={"idempotency_key": [_("必填，最多 64 个字符")]}
        )
    key = f"redeem:{user.pk}:{idempotency_key}"
    with transaction.atomic():
        reward = Reward.objects.select_for_update(of=("self",)).filter(pk=reward_id).first()
        if reward is None:
            raise ApplicationError("not_found", _("奖品不存在"), status_code=404)
        existing = Redemption.objects.filter(idempotency_key=key).select_related("reward", "order").first()
        if existing is not None:
            return existing
        if not reward.is_active:
            raise ApplicationError("reward_unavailable", _("该奖品已下架"))
        if reward.stock is not None and reward.stock <= 0:
            raise ApplicationError("out_of_stock", _("该奖品已兑完"))
        if reward.per_member_limit:
            used = Redemption.objects.filter(user=user, reward=reward).count()
            if used >= reward.per_member_limit:
                raise ApplicationError(
                    "redeem_limit_reached", _("每人限兑 %(n)s 次") % {"n": reward.per_member_limit}
                )
        entry = points_spend(
            user=user,
            amount=reward.points_price,
            reason=_("兑换「%(title)s」") % {"title": reward.title[:60]},
            idempotency_key=key,
        )
        order = order_create_free(
            user=user,
            item_type=reward.item_type,
            item_id=reward.item_id,
            reason=_("积分兑换"),
            channel="points",
        )
        redemption = Redemption.objects.create(
            user=user,
            reward=reward,
            points=reward.points_price,
            points_entry=entry,
            order=order,
            idempotency_key=key,
        )
        reward.redeemed_count += 1
        if reward.stock is not None:
            reward.stock -= 1
        reward.save(update_fields=["redeemed_count", "stock", "updated_at"])
    return redemption
