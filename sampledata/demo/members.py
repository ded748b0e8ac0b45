"""Demo data of members: the two tiers of API.md, an operator, a demo member, staff reps (sales,
customer service, a teacher), the big group, subscribe templates and points-mall rewards.
With history: a few members at different onboarding steps.

`seed_late` (once the promoter exists) brings the personas to life at the moments their story happened
(sampledata/demo/clock.py): `vip` signs up through the promoter's link and buys VIP a month ago, `ka`
buys KA two weeks ago, each through the real order and payment path, and both go through onboarding
(入会引导) with their reps. Idempotent."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from core import roles
from core.posters import qr_png
from members.auth.services import user_signed_up
from members.memberships.grants import membership_grant_manual
from members.models import (
    Membership,
    MembershipTier,
    Onboarding,
    Reward,
    ServiceGroup,
    SubscribeTemplate,
    User,
)
from members.notifications.services import notifications_mark_all_read
from members.onboarding.services import (
    onboarding_confirm_big_group,
    onboarding_confirm_service_group,
    onboarding_mark_step,
)
from members.profile.services import profile_update
from referrals import codes
from sampledata.demo.clock import at, days_ago, real_now
from sampledata.demo.payments import demo_buy

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

# Personas brought to life through real orders at the moments of their story (the README's tour):
# `vip` signed up through the promoter's link and joined VIP a month ago (here, `seed_late`), then learns,
# checks in, joined the circle, posts and has a ticket (sampledata/demo/courses.py, circles.py); `ka` is
# a KA client of two weeks. `member` is the newcomer who has just signed up (新人礼包) and bought nothing.
# username, nickname, signed up (days ago), bought (tier, days ago, hour), profile (city, industry, intro)
PERSONAS: list[dict[str, Any]] = [
    {
        "username": "vip",
        "nickname": "林晓雨",
        "signed_up": 31,
        "tier": "VIP",
        "bought": (30, 10),
        "referred": True,
        "profile": (
            "杭州",
            "教育培训",
            "大家好，我是林晓雨，在杭州做少儿写作培训，想把课程做成会员制，来这里学私域和写作，请多指教。",
        ),
    },
    {
        "username": "ka",
        "nickname": "周建国",
        "signed_up": 16,
        "tier": "KA",
        "bought": (15, 15),
        "referred": False,
        "profile": (
            "上海",
            "企业服务",
            "我是周建国，经营一家企业培训公司，今年想把老学员做成年度会员，希望和各位创始人多交流。",
        ),
    },
]
MEMBER_SIGNED_UP_HOURS_AGO = 3  # `member` has just signed up
PLATFORM_SINCE_DAYS = 450  # the operator, staff and tiers exist before the history's oldest members

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
    with at(days_ago(PLATFORM_SINCE_DAYS, hour=9)):
        for tier in TIERS:
            MembershipTier.objects.update_or_create(code=tier["code"], defaults=tier)
        operator = _user("operator", "运营小知", superuser=True)
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

    # The newcomer signs up as anyone does: the sign-up listeners give the 新人礼包 (POINTS_SIGNUP_BONUS).
    if not User.objects.filter(username="member").exists():
        with at(real_now() - timedelta(hours=MEMBER_SIGNED_UP_HOURS_AGO)):
            member = User(username="member", nickname="陈思远")
            member.set_password(DEMO_PASSWORD)
            member.set_phone("13800138000", verified=True)
            member.save()
            demo_signup(user=member)

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
    """Each member is granted the tier, then takes a step a day, the last one `stuck_days` ago: that is
    how long they have been at the step they are on (the stuck list), all through the real services."""
    for username, nickname, tier_code, steps, stuck_days in HISTORY_MEMBERS:
        if Onboarding.objects.filter(user__username=username).exists():
            continue
        started = days_ago(stuck_days + len(steps) + 1, hour=11)
        with at(started - timedelta(days=2)):
            user = _user(username, nickname)
        tier = MembershipTier.objects.get(code=tier_code)
        with at(started):
            membership_grant_manual(
                user=user, tier=tier, days=tier.duration_days, operator=operator, reason="线下付款，运营开通"
            )
        onboarding = Onboarding.objects.get(user=user)
        for done, step in enumerate(steps, start=1):
            with at(days_ago(stuck_days + len(steps) - done, hour=11 + done)):
                if step == "intro":
                    profile_update(
                        user=user,
                        real_name=nickname,
                        city="上海",
                        industry="咨询",
                        self_introduction=f"大家好，我是{nickname}，在上海做企业咨询，希望在社群里和大家多交流、共同成长。",
                        use_house_nickname=True,
                    )
                else:
                    onboarding_mark_step(onboarding=onboarding, step=step, operator=operator)


def demo_signup(*, user: User, referral_code: str = "") -> None:
    """Sign `user` up as the web sign-up does, after opening the share link when there is one: the
    visit is counted (referrals.capture), then the sign-up listeners bind the referrer and give the
    新人礼包. Call inside `at(...)`, with the user saved."""
    token = codes.parse_ref(referral_code)
    referrer = codes.user_for_code(token.code) if token is not None else None
    if token is not None and referrer is not None:
        codes.link_visit_record(referrer=referrer, channel=token.channel)
    user_signed_up(user=user, referral_code=referral_code, source="web")


def seed_late(*, stdout, history: bool = False) -> None:
    """The personas buy their tier through the real path at the moment they did, and go through
    onboarding after (sandbox payments only: elsewhere the personas stay without purchases)."""
    if not settings.PAYMENTS_SANDBOX_ENABLED:
        stdout.write("members: sandbox disabled, personas not seeded")
        return
    promoter = User.objects.filter(username="promoter").first()
    for persona in PERSONAS:
        referral_code = promoter.referral_code if promoter is not None and persona["referred"] else ""
        user = User.objects.filter(username=persona["username"]).first()
        if user is None:
            with at(days_ago(persona["signed_up"], hour=21, minute=40)):
                user = User(username=persona["username"], nickname=persona["nickname"])
                user.set_password(DEMO_PASSWORD)
                user.save()
                demo_signup(user=user, referral_code=referral_code)
        tier = MembershipTier.objects.get(code=persona["tier"])
        if not Membership.objects.filter(user=user).exists():
            days, hour = persona["bought"]
            with at(days_ago(days, hour=hour, minute=20)):
                demo_buy(user=user, item_type="membership", item_id=tier.code, referral_code=referral_code)
        _onboard(user=user, profile=persona["profile"])
    stdout.write(
        "members: personas "
        + ", ".join(
            f"{p['username']} ({p['nickname']}, {p['tier']} {p['bought'][0]} days ago)" for p in PERSONAS
        )
    )


def _onboard(*, user: User, profile: tuple[str, str, str]) -> None:
    """Onboarding as it happens after a purchase (reps were assigned by it): the service rep sets up the
    对接群 and posts its QR code within hours, the member joins it, sends the self-introduction the next
    morning and then joins the big group."""
    onboarding = Onboarding.objects.select_related("service_group").filter(user=user).first()
    if onboarding is None or onboarding.stage == Onboarding.Stage.DONE:
        return
    start = onboarding.started_at
    group = onboarding.service_group
    if group is not None and not group.qr_image:
        with at(start + timedelta(hours=2)):
            # What the rep's upload in admin does (members.admin.onboarding): WeChat group QR codes last 7 days.
            group.qr_image.save(
                f"demo-service-group-{group.pk}.png",
                ContentFile(qr_png(f"{settings.SITE_URL}/account/")),
                save=False,
            )
            group.qr_expires_at = timezone.now() + timedelta(days=7)
            group.save(update_fields=["qr_image", "qr_expires_at", "updated_at"])
    if onboarding.service_group_joined_at is None:
        with at(start + timedelta(hours=3)):
            onboarding_confirm_service_group(user=user)
    city, industry, introduction = profile
    morning = timezone.localtime(start + timedelta(days=1)).replace(
        hour=9, minute=10, second=0, microsecond=0
    )
    if onboarding.intro_submitted_at is None:
        with at(morning):
            profile_update(
                user=user,
                real_name=user.nickname,
                city=city,
                industry=industry,
                self_introduction=introduction,
            )
    if onboarding.big_group_joined_at is None:
        with at(morning + timedelta(minutes=20)):
            onboarding_confirm_big_group(user=user)
            notifications_mark_all_read(user=user)  # in the app, they have read what came so far
