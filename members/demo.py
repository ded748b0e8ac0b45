"""Demo data for members: the two tiers of API.md, an operator and a demo member. Idempotent."""

from members.models import MembershipTier, User

DEMO_PASSWORD = "zhiquan-demo-2026"

TIERS = [
    {
        "code": "VIP",
        "name": "VIP会员",
        "price_fen": 360_000,
        "duration_days": 365,
        "rank": 1,
        "member_no_prefix": "VIP",
        "single_purchase_discount_bp": 1000,
        "benefits": "全部 VIP 线上课程\n社群服务与对接群\n每年一次线下课\n训练营与付费圈子",
    },
    {
        "code": "KA",
        "name": "KA大客户",
        "price_fen": 12_000_000,
        "duration_days": 365,
        "rank": 2,
        "member_no_prefix": "KA",
        "single_purchase_discount_bp": 2000,
        "benefits": "包含 VIP 全部权益\n高阶私董课程\n专属客户经理\n全年线下课",
    },
]


def seed(*, stdout, history: bool = False) -> None:
    for tier in TIERS:
        MembershipTier.objects.update_or_create(code=tier["code"], defaults=tier)

    operator, created = User.objects.get_or_create(
        username="operator", defaults={"nickname": "运营小知", "is_staff": True, "is_superuser": True}
    )
    if created:
        operator.set_password(DEMO_PASSWORD)
        operator.save()
    member, created = User.objects.get_or_create(username="member", defaults={"nickname": "体验会员"})
    if created:
        member.set_password(DEMO_PASSWORD)
        member.set_phone("13800138000", verified=True)
        member.save()
    stdout.write(
        f"members: tiers {', '.join(t['code'] for t in TIERS)}; logins operator / member (password {DEMO_PASSWORD})"
    )
