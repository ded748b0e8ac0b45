"""Demo data of members: the two tiers of API.md, an operator, a demo member, staff reps (sales,
customer service, a teacher), the big group, subscribe templates and points-mall rewards.
With history: a few members at different onboarding steps. Idempotent."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from core import roles
from core.posters import qr_png
from members.memberships.grants import membership_grant_manual
from members.models import (
    MembershipTier,
    Onboarding,
    Reward,
    ServiceGroup,
    SubscribeTemplate,
    User,
)
from members.onboarding.services import onboarding_mark_step
from members.points.services import points_award
from members.profile.services import profile_update

DEMO_PASSWORD = "zhiquan-demo-2026"

TIERS: list[dict[str, Any]] = [
    {
        "code": "VIP",
        "name": "VIP会员",
        "price_fen": 360_000,
        "duration_days": 365,
        "rank": 1,
        "member_no_prefix": "VIP",
        "single_purchase_discount_bp": 1000,
        "benefits": "专属顾问一对一入会引导\n会员对接群与社群服务\n每年 1 次线下课免费名额",
    },
    {
        "code": "KA",
        "name": "KA大客户",
        "price_fen": 12_000_000,
        "duration_days": 365,
        "rank": 2,
        "member_no_prefix": "KA",
        "single_purchase_discount_bp": 2000,
        "benefits": "包含 VIP 全部权益\n专属客户经理\n线下课不限次数",
    },
]

STAFF = [
    ("sales", "销售小王", roles.SALES),
    ("service", "客服小李", roles.CUSTOMER_SERVICE),
    ("teacher", "王老师", roles.TEACHER),
]

# Personas the other apps' `seed_late` bring to life through real orders (sampledata/demo/courses.py, circles.py):
# `vip` joined VIP a month ago through the promoter's link and learns, checks in, posts and has a ticket;
# `ka` is a KA client. `member` is the newcomer who has signed up but not bought yet (the README's tour).
PERSONAS = [("vip", "林晓雨"), ("ka", "周建国")]

REWARDS = [
    {
        "title": "VIP 体验 7 天",
        "description": "未开通会员可体验 VIP 全部线上权益 7 天；VIP 会员兑换则顺延 7 天。",
        "item_type": "membership_days",
        "item_id": "VIP:7",
        "points_price": 800,
        "per_member_limit": 1,
        "sort_order": 10,
    },
    {
        "title": "VIP 会员 30 天",
        "description": "VIP 会员有效期顺延 30 天（非会员则开通 30 天）。",
        "item_type": "membership_days",
        "item_id": "VIP:30",
        "points_price": 3000,
        "per_member_limit": 0,
        "sort_order": 20,
    },
]

SUBSCRIBE_TEMPLATES = [
    # Paste the template ids from the mini-program console (订阅消息) to switch WeChat delivery on.
    {"key": "renewal_reminder", "name": "会员到期提醒", "fields": "thing1,time2", "page": "pages/me/index"},
    {
        "key": "withdrawal_result",
        "name": "提现结果通知",
        "fields": "amount1,phrase2,time3",
        "page": "pages/me/index",
    },
]


def _user(username: str, nickname: str, *, staff: bool = False, superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"nickname": nickname, "is_staff": staff or superuser, "is_superuser": superuser},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed(*, stdout, history: bool = False) -> None:
    for tier in TIERS:
        MembershipTier.objects.update_or_create(code=tier["code"], defaults=tier)

    operator = _user("operator", "运营小知", superuser=True)
    member, created = User.objects.get_or_create(username="member", defaults={"nickname": "陈思远"})
    if created:
        member.set_password(DEMO_PASSWORD)
        member.set_phone("13800138000", verified=True)
        member.save()
    points_award(user=member, amount=1000, reason="新人礼包", idempotency_key="demo:welcome:member")

    for username, nickname in PERSONAS:
        _user(username, nickname)

    for username, nickname, role in STAFF:
        person = _user(username, nickname, staff=True)
        person.groups.add(Group.objects.get_or_create(name=role)[0])

    big_group, created = ServiceGroup.objects.get_or_create(
        kind=ServiceGroup.Kind.BIG,
        name="知圈会员大群",
        defaults={"notes": "演示：正式使用请上传真实的群二维码"},
    )
    if created or not big_group.qr_image:
        big_group.qr_image.save(
            "demo-big-group.png", ContentFile(qr_png(f"{settings.SITE_URL}/account/")), save=True
        )

    for template in SUBSCRIBE_TEMPLATES:
        SubscribeTemplate.objects.get_or_create(key=template["key"], defaults=template)
    for reward in REWARDS:
        Reward.objects.get_or_create(
            item_type=reward["item_type"], item_id=reward["item_id"], defaults=reward
        )

    if history:
        _seed_history(operator=operator)

    stdout.write(
        f"members: tiers {', '.join(t['code'] for t in TIERS)}; logins operator / member / vip / ka / sales / "
        "service / teacher "
        f"(password {DEMO_PASSWORD}); big group, {len(REWARDS)} mall rewards"
    )


HISTORY_MEMBERS = [
    # username, nickname, tier, steps done (service_group, intro, big_group), days stuck at the current step
    ("demo_vip_1", "陈晨", "VIP", (), 0),
    ("demo_vip_2", "刘洋", "VIP", ("service_group",), 5),
    ("demo_vip_3", "王芳", "VIP", ("service_group", "intro", "big_group"), 0),
    ("demo_ka_1", "赵磊", "KA", ("service_group", "intro"), 4),
]


def _seed_history(*, operator: User) -> None:
    now = timezone.now()
    for username, nickname, tier_code, steps, stuck_days in HISTORY_MEMBERS:
        user = _user(username, nickname)
        if Onboarding.objects.filter(user=user).exists():
            continue
        tier = MembershipTier.objects.get(code=tier_code)
        membership_grant_manual(
            user=user, tier=tier, days=tier.duration_days, operator=operator, reason="演示数据"
        )
        if "intro" in steps:
            profile_update(
                user=user,
                real_name=nickname,
                city="上海",
                industry="咨询",
                self_introduction=f"大家好，我是{nickname}，在上海做企业咨询，希望在社群里和大家多交流、共同成长。",
                use_house_nickname=True,
            )
        onboarding = Onboarding.objects.get(user=user)
        for step in steps:
            if step != "intro":
                onboarding_mark_step(onboarding=onboarding, step=step, operator=operator)
        if stuck_days:
            Onboarding.objects.filter(user=user).update(stage_since=now - timedelta(days=stuck_days))
