"""Demo data for referrals: promoter levels and prices, commission rules (a non-zero direct rate on
membership sales, as API.md requires), a promoter agreement, a group-buy offer, staff brackets and a
demo promoter with one invited friend. Idempotent."""

from __future__ import annotations

from django.utils import timezone

from members.models import User
from referrals import agreements, promoters
from referrals.models import (
    CommissionRule,
    GroupBuyOffer,
    PromoterAgreement,
    PromoterLevel,
    PromoterPrice,
    ReferralSettings,
    StaffShareBracket,
)
from sampledata.demo.clock import at, days_ago
from sampledata.demo.members import DEMO_PASSWORD, demo_signup

LEVELS = [
    {"code": "normal", "name": "普通推广员", "rank": 1, "is_default": True, "commission_rate_bp": None},
    {
        "code": "kol",
        "name": "KOL",
        "rank": 2,
        "commission_rate_bp": 1500,
        "auto_min_orders": 5,
        "auto_min_sales_fen": 1_800_000,
        "description": "推广成交 5 单且实收满 ¥18,000 自动升级",
    },
    {
        "code": "core",
        "name": "核心推广员",
        "rank": 3,
        "commission_rate_bp": 2000,
        "description": "由运营授予",
    },
]

# Direct (level-1) rates per item type; level 2 stays off (docs/architecture.md §2).
RULES = [
    ("membership", 1000, "会员：直推 10%"),
    ("course", 1500, "课程：直推 15%"),
    ("camp", 1000, "训练营：直推 10%"),
    ("event", 500, "线下活动：直推 5%"),
    ("circle", 1000, "付费圈子：直推 10%"),
    ("group_buy", 500, "拼团：直推 5%"),
]

AGREEMENT = """一、推广员资格无需购买任何商品，人人可申请。
二、佣金只来自你推荐的朋友的真实付费成交，注册、拉人本身没有任何奖励。
三、平台默认只向直接推荐人支付佣金，不设多层级返佣。
四、佣金在商品退款期结束后结算；期内退款的佣金作废，结算后退款的佣金从你的余额中追回。
五、禁止虚假宣传、夸大收益、诱导囤货或以发展下线为目的的推广，违者停止推广资格并追回不当收益。
六、推广中获得的个人信息仅用于服务你的朋友，不得外泄。"""

# The programme started before the promoter joined; the promoter's friend signed up through their link
# well before the VIP persona did (sampledata/demo/members.py).
PROGRAMME_SINCE_DAYS = 120
PROMOTER_SINCE_DAYS = 90
FRIEND_SINCE_DAYS = 45

BRACKETS = [(0, 500), (10_000_000, 800), (50_000_000, 1000)]  # ¥0–10万 5%, 10–50万 8%, 50万+ 10%


def seed(*, stdout, history: bool = False) -> None:
    with at(days_ago(PROGRAMME_SINCE_DAYS, hour=10)):
        levels, agreement = _programme()
    promoter = User.objects.filter(username="promoter").first()
    if promoter is None:
        with at(days_ago(PROMOTER_SINCE_DAYS, hour=20)):
            promoter = User(username="promoter", nickname="推广达人")
            promoter.set_password(DEMO_PASSWORD)
            promoter.save()
            demo_signup(user=promoter)
            promoters.promoter_set_level(user=promoter, level=levels["kol"], actor=None, reason="demo")
            agreements.agreement_accept(user=promoter, agreement=agreement)
    if promoters.promoter_level_of(promoter) != levels["kol"]:
        promoters.promoter_set_level(user=promoter, level=levels["kol"], actor=None, reason="demo")
    agreements.agreement_accept(user=promoter, agreement=agreement)
    if not User.objects.filter(username="friend").exists():
        # The friend signs up through the promoter's link: bound to them, no reward for the sign-up.
        with at(days_ago(FRIEND_SINCE_DAYS, hour=21)):
            friend = User(username="friend", nickname="小李")
            friend.set_password(DEMO_PASSWORD)
            friend.save()
            demo_signup(user=friend, referral_code=promoter.referral_code)
    stdout.write(
        "referrals: levels 普通/KOL/核心, direct commission 10% on memberships, agreement v1, "
        f"VIP 3-person group buy; logins promoter / friend (password {DEMO_PASSWORD})"
    )


def _programme() -> tuple[dict[str, PromoterLevel], PromoterAgreement]:
    """Levels, promoter prices, commission rules, the agreement, staff brackets and the group-buy offer."""
    ReferralSettings.current()
    levels: dict[str, PromoterLevel] = {}
    for spec in LEVELS:
        spec = dict(spec)
        code = str(spec.pop("code"))
        levels[code], _created = PromoterLevel.objects.update_or_create(code=code, defaults=spec)
    # The founding text's idea (retail → KOL → core) applied to VIP (¥3,600): what each promoter pays.
    for code, price in (("kol", 300_000), ("core", 240_000)):
        PromoterPrice.objects.update_or_create(
            level=levels[code],
            item_type="membership",
            item_id="VIP",
            applies_to=PromoterPrice.AppliesTo.SELF,
            defaults={"price_fen": price},
        )
    for item_type, rate, note in RULES:
        CommissionRule.objects.get_or_create(
            item_type=item_type,
            item_id="",
            level=1,
            promoter_level=None,
            defaults={"rate_bp": rate, "note": note},
        )
    agreement, _created = PromoterAgreement.objects.get_or_create(
        version=1, defaults={"title": "知圈推广员协议", "body": AGREEMENT, "published_at": timezone.now()}
    )
    if not StaffShareBracket.objects.exists():
        StaffShareBracket.objects.bulk_create(
            [StaffShareBracket(lower_fen=lo, rate_bp=r) for lo, r in BRACKETS]
        )
    GroupBuyOffer.objects.get_or_create(
        title="VIP 会员三人团",
        defaults={
            "item_type": "membership",
            "item_id": "VIP",
            "group_size": 3,
            "group_price_fen": 298_000,
            "time_limit_hours": 24,
            "description": "三人成团，每人 ¥2,980 开通一年 VIP；24 小时内未成团自动全额退款。",
        },
    )
    return levels, agreement
