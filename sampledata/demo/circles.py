"""Demo data of circles: a creator's circle with rules v1, posts, a guest, included in KA. Idempotent."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from circles.models import Circle, CircleMembership, Post, RulesAcceptance
from circles.services import circles as circle_services
from circles.services import posts as post_services
from core.posters import cover_png
from core.roles import CIRCLE_OWNER
from members.models import Membership, MembershipTier, SubscribeTemplate, User
from members.notifications.services import notifications_mark_all_read
from payments.models import Order
from sampledata.demo.clock import at, days_ago
from sampledata.demo.members import DEMO_PASSWORD
from sampledata.demo.payments import demo_buy

# The circle opened before the history's members join it; its posts came over the months since.
CIRCLE_SINCE_DAYS = 200
POSTED = [(CIRCLE_SINCE_DAYS, 10), (45, 9), (12, 20), (4, 22)]  # (days ago, hour), one per POSTS row
VIP_JOINED_CIRCLE_DAYS = 29  # the day after the VIP persona joined VIP (sampledata/demo/members.py)

RULES = """1. 友善交流，尊重每一位成员，不人身攻击。
2. 不发广告、不拉群、不私下引流。
3. 分享真实经验，转载请注明出处。
4. 付费问答请围绕嘉宾擅长领域提问。
5. 违反公约者，圈主可移出圈子。"""

POSTS = [
    (
        "talk",
        "欢迎加入知圈创作者圈",
        "这里是创作者和会员一起成长的地方。先读公约，再做个自我介绍吧！",
        ["公告"],
        True,
        True,
    ),
    (
        "talk",
        "私域运营的三个关键指标",
        "付费率、复购率、退群率。本周我们逐一拆解，欢迎补充你的实践。",
        ["运营", "干货"],
        False,
        True,
    ),
    (
        "homework",
        "第一周作业：写下你的用户画像",
        "按照课程模板，写出你最核心的三类用户。",
        ["作业"],
        False,
        False,
    ),
    (
        "question",
        "训练营打卡率怎么提升？",
        "我们的营期打卡率只有 40%，大家有什么好办法？",
        ["训练营"],
        False,
        False,
    ),
]


# Subscribe messages circles sends (members delivers them when the operator pastes WeChat's template id).
SUBSCRIBE_TEMPLATES = [
    {"key": "circle_tip", "name": "圈子打赏到账", "fields": "thing1,thing2", "page": "pages/wallet/index"},
    {
        "key": "circle_question",
        "name": "收到付费提问",
        "fields": "thing1,thing2",
        "page": "pages/circles/index",
    },
    {
        "key": "circle_answer",
        "name": "付费提问已回答",
        "fields": "thing1,thing2",
        "page": "pages/circles/index",
    },
    {
        "key": "circle_question_refund",
        "name": "付费提问超时退款",
        "fields": "thing1,thing2",
        "page": "pages/circles/index",
    },
]


def seed(*, stdout, history: bool = False) -> None:
    for template in SUBSCRIBE_TEMPLATES:
        SubscribeTemplate.objects.get_or_create(key=template["key"], defaults=template)

    creator, created = User.objects.get_or_create(
        username="creator", defaults={"nickname": "苏岚", "is_staff": True}
    )
    if created:
        creator.set_password(DEMO_PASSWORD)
        creator.save()
    group, _ = Group.objects.get_or_create(name=CIRCLE_OWNER)
    creator.groups.add(group)
    guest, created = User.objects.get_or_create(username="guest", defaults={"nickname": "王浩（增长嘉宾）"})
    if created:
        guest.set_password(DEMO_PASSWORD)
        guest.save()

    circle = Circle.objects.filter(owner=creator, name="知圈创作者圈").first()
    if circle is None:
        with at(days_ago(CIRCLE_SINCE_DAYS, hour=10)):
            circle = circle_services.circle_create(
                owner=creator,
                name="知圈创作者圈",
                intro="创作者与会员的付费圈子：运营干货、训练营复盘、嘉宾付费问答。365 天有效，可免费试用 3 天。",
                price_fen=19_900,
                duration_days=365,
                trial_days=3,
                rules_body=RULES,
            )
    ka = MembershipTier.objects.filter(code="KA").first()
    if ka is not None:
        circle.included_in_tiers.add(ka)
    if not CircleMembership.objects.filter(circle=circle, user=guest).exists():
        with at(days_ago(CIRCLE_SINCE_DAYS - 1, hour=10)):
            CircleMembership.objects.create(
                circle=circle,
                user=guest,
                role=CircleMembership.Role.GUEST,
                joined_at=timezone.now(),
                accepted_rules_version=circle.rules_version,
            )
    if not Post.objects.filter(circle=circle).exists():
        # Posted over the circle's life, the welcome first: the feed is not all "just now".
        for (kind, title, body, tags, pinned, featured), (days, hour) in zip(POSTS, POSTED, strict=True):
            author = creator if kind != "question" else guest
            with at(days_ago(days, hour=hour)):
                post = post_services.post_create(
                    circle=circle, author=author, kind=kind, title=title, body=body, tags=tags
                )
                if pinned or featured:
                    post_services.post_set_flags(
                        post=post, actor=creator, pinned=pinned or None, featured=featured or None
                    )
    stdout.write(
        f"circles: '{circle.name}' (#{circle.pk}) owner creator / {DEMO_PASSWORD}, guest 'guest', included in KA"
    )


def seed_late(*, stdout, history: bool = False) -> None:
    """The VIP persona joins the circle (bought: VIP does not include it), accepts the rules and posts;
    the KA persona, whose tier includes it, accepts the rules. Through the real services."""
    circle = Circle.objects.filter(name="知圈创作者圈").first()
    if circle is not None and not circle.cover:
        circle.cover.save(
            f"demo-circle-{circle.pk}.png",
            ContentFile(cover_png(title=circle.name, kicker="圈子", index=1)),
            save=True,
        )
    vip = User.objects.filter(username="vip").first()
    if circle is None or vip is None or not settings.PAYMENTS_SANDBOX_ENABLED:
        return
    # The day after joining VIP she buys the circle (VIP does not include it) and accepts its rules; her
    # post, yesterday evening, looks back on the month (three check-ins: the last one yesterday morning).
    if not Order.objects.filter(user=vip, item_type="circle", status=Order.Status.PAID).exists():
        with at(days_ago(VIP_JOINED_CIRCLE_DAYS, hour=20)):
            demo_buy(user=vip, item_type="circle", item_id=str(circle.pk))
    if not RulesAcceptance.objects.filter(circle=circle, user=vip).exists():
        with at(days_ago(VIP_JOINED_CIRCLE_DAYS, hour=20, minute=5)):
            circle_services.circle_rules_accept(circle=circle, user=vip)
    if not Post.objects.filter(circle=circle, author=vip).exists():
        with at(days_ago(1, hour=21)):
            notifications_mark_all_read(user=vip)  # she opens the app, reads what came, and posts
            post_services.post_create(
                circle=circle,
                author=vip,
                title="入营第一个月的三点收获",
                body="加入一个月：私域课学完一半，写作营连续打卡三天。最大的收获是每天先写 300 字再改，"
                "比等灵感靠谱多了。想请教大家：会员续费前一个月，你们会做哪些触达？",
                tags=["复盘"],
            )
    ka = User.objects.filter(username="ka").first()
    ka_since = Membership.objects.filter(user=ka).values_list("starts_at", flat=True).first()
    if (
        ka is not None
        and ka_since is not None
        and not RulesAcceptance.objects.filter(circle=circle, user=ka).exists()
    ):
        # The KA tier includes the circle: the evening after buying KA he opens it and accepts its rules.
        evening = timezone.localtime(ka_since + timedelta(days=1)).replace(
            hour=20, minute=0, second=0, microsecond=0
        )
        with at(min(evening, days_ago(0))):
            circle_services.circle_rules_accept(circle=circle, user=ka)
    stdout.write("circles: persona vip joined and posted; ka joined through the KA tier")
