"""The plan the history generator fills in Python before it writes anything (users, bindings, orders,
refunds, membership events, sign-ups per promoter and channel), and the weighted choices it draws from
(names, acquisition and payment channels).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from members.models import User
from payments.models import Order
from referrals.models import ReferralBinding

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "晨",
    "洋",
    "静",
    "磊",
    "敏",
    "婷",
    "杰",
    "芳",
    "强",
    "丽",
    "军",
    "娜",
    "涛",
    "霞",
    "超",
    "琳",
    "鹏",
    "雪",
]
CHANNELS = [("link", 30), ("poster", 25), ("moments", 20), ("chat", 15), ("miniprogram", 10)]
PAY_CHANNELS = [("wechat_miniprogram", 55), ("wechat_jsapi", 25), ("wechat_native", 10), ("wechat_h5", 10)]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    """One key of `(key, weight)` pairs, drawn in proportion to the weights."""
    return rng.choices([k for k, _w in weighted], weights=[w for _k, w in weighted])[0]


@dataclass
class HistoryPlan:
    """Everything generated in Python before the bulk inserts."""

    users: list[User] = field(default_factory=list)
    bindings: list[ReferralBinding] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    refunds: list[tuple[Order, datetime]] = field(default_factory=list)
    # per username: [(kind, tier, at, order)] in time order
    membership_events: dict = field(default_factory=lambda: defaultdict(list))
    signups: dict = field(default_factory=lambda: defaultdict(int))  # (promoter idx, channel, date) -> n
