"""A small business with at least one row behind every ModelAdmin, for the admin polish tests.

Built through the real services wherever they exist (purchases and refunds through the sandbox,
earnings and settlement through the ledger, withdrawals, grants, posts…), with two of each kind of
owner so that "own rows only" can be seen: two teachers, two circle owners, two sales reps.

`build()` is called once per test module inside an outer transaction (see test_every_admin_renders.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import models, transaction
from django.test import Client, TestCase
from django.utils import timezone

from core import roles
from core.models import AttemptCounter, Brand, WeChatIdentity
from insights.roles import roles_setup
from members.models import User
from tests.factories import UserFactory


@dataclass
class World:
    staff: dict[str, User]
    members: dict[str, User]
    objects: dict[str, models.Model] = field(default_factory=dict)


ROLE_OF = {
    "operator": roles.OPERATOR,
    "finance": roles.FINANCE,
    "finance2": roles.FINANCE,
    "teacher": roles.TEACHER,
    "teacher2": roles.TEACHER,
    "owner": roles.CIRCLE_OWNER,
    "owner2": roles.CIRCLE_OWNER,
    "sales": roles.SALES,
    "sales2": roles.SALES,
    "service": roles.CUSTOMER_SERVICE,
}


def _staff() -> dict[str, User]:
    roles_setup()
    people = {}
    for name, role in ROLE_OF.items():
        user = UserFactory(username=f"staff_{name}", nickname=f"员工{name}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        people[name] = user
    people["superuser"] = UserFactory(
        username="root", nickname="超级管理员", is_staff=True, is_superuser=True
    )
    people["staff_no_role"] = UserFactory(username="staff_plain", is_staff=True)
    return people


def build() -> World:
    from courses.camps import seats as camp_seats
    from courses.catalog import services as catalog_services
    from courses.events import registrations as event_registrations
    from courses.learning import homework as learning_homework
    from courses.learning import quizzes as learning_quizzes
    from courses.models import CheckIn, CheckinReminder, CourseCompletion, MediaAsset
    from growth.campaigns.preferences import preference_update
    from growth.campaigns.services import campaign_schedule, campaign_send_slice
    from growth.coupons.issuing import coupon_issue
    from growth.flash_sales import services as flash_sales
    from growth.models import Campaign, Coupon, Segment, Tag
    from growth.redeem_codes import services as redeem_codes
    from growth.segments.tags import tag_add
    from members.memberships.grants import membership_grant_manual
    from members.models import Onboarding, Reward, ServiceGroup, SubscribeTemplate
    from members.notifications.opt_ins import subscribe_optin_record
    from members.notifications.services import notification_send
    from members.points.mall import points_redeem
    from members.points.services import points_award
    from payments.models import ReconciliationMismatch, ReconciliationRun, WithdrawalSettings
    from payments.wallet import ledger_check, withdrawal_approval, withdrawals
    from tests.courses import factories as course_f
    from tests.courses import learning_helpers as learning_f
    from tests.insights import builders as b
    from tests.payments.helpers import create_paid_order, refund_order
    from tests.payments.ledger_support import earn

    staff = _staff()
    world = World(staff=staff, members={})
    o = world.objects

    # ---- tiers, members, onboarding (each member assigned to one sales rep) -----------------------------
    vip, ka = course_f.vip_tier(), course_f.ka_tier()
    o["tier"] = vip
    ServiceGroup.objects.create(kind="service", name="VIP 对接群 1", tier=vip)
    alice = UserFactory(username="alice", nickname="爱丽丝")
    alice.set_phone("13812345678")
    alice.save()
    bob = UserFactory(username="bob", nickname="鲍勃")
    carol = UserFactory(username="carol", nickname="卡罗尔")
    world.members.update(alice=alice, bob=bob, carol=carol)
    o["vip_order"] = create_paid_order(user=alice, item_type="membership", item_id="VIP")
    create_paid_order(user=bob, item_type="membership", item_id="VIP")
    o["grant"] = membership_grant_manual(
        user=carol, tier=ka, days=30, operator=staff["superuser"], reason="线下转账"
    )
    SubscribeTemplate.objects.create(key="checkin_reminder", name="打卡提醒", template_id="TPL1", fields={})
    subscribe_optin_record(user=alice, template_key="checkin_reminder", count=2)
    notification_send(user=alice, kind="test", title="欢迎加入")
    points_award(user=alice, amount=500, reason="欢迎积分", idempotency_key="world:points")

    # ---- courses: two teachers, each with a course, a camp (term, seats, check-ins) and an event ----------
    course = course_f.make_course(teacher=staff["teacher"], title="老师一的课", price_fen=9_900)
    course_f.make_course(teacher=staff["teacher2"], title="老师二的课", price_fen=9_900)
    o["course"] = course
    o["course_order"] = create_paid_order(user=bob, item_type="course", item_id=str(course.pk))
    lesson = course.lessons.order_by("position").first()
    catalog_services.lesson_progress_save(user=bob, lesson=lesson, position_seconds=30)
    quiz = learning_f.make_quiz(lesson)
    options, questions = learning_f.option_ids(quiz), learning_f.question_ids(quiz)
    learning_quizzes.quiz_submit(
        user=bob, lesson=lesson, answers={questions[0]: [options["A1"]], questions[1]: [options["B1"]]}
    )
    learning_f.make_homework(lesson)
    learning_homework.homework_submit(user=bob, lesson=lesson, text="三条收获")
    CourseCompletion.objects.create(
        user=bob, course=course, completed_at=timezone.now(), certificate_no="ZQK-WORLD-1"
    )
    reward = Reward.objects.create(
        title="课程兑换", item_type="course", item_id=str(course.pk), points_price=100, stock=10
    )
    points_redeem(user=alice, reward_id=reward.pk, idempotency_key="world:redeem")
    event = course_f.make_event(price_fen=0, organizer=staff["teacher"], title="老师一的活动")
    event_registrations.event_register(user=alice, event=event)
    course_f.set_quota(vip, 2)
    camp, term = course_f.make_camp(teacher=staff["teacher"], title="老师一的营", price_fen=0)
    camp2, term2 = course_f.make_camp(teacher=staff["teacher2"], title="老师二的营", price_fen=0)
    o["camp"], o["camp2"] = camp, camp2
    seat = camp_seats.term_join(user=alice, term=term)
    seat2 = camp_seats.term_join(user=bob, term=term2)
    task = camp.tasks.order_by("day").first()
    o["checkin"] = b.checkin(seat=seat, task=task, status=CheckIn.Status.VISIBLE)
    o["held_checkin"] = b.checkin(seat=seat2, task=camp2.tasks.order_by("day").first(), status="review")
    o["held_checkin_own"] = b.checkin(seat=seat, task=camp.tasks.order_by("day")[1], status="review")
    CheckinReminder.objects.create(
        user=alice, term=term, seat=seat, day=timezone.localdate(), created_at=timezone.now()
    )
    # protected media: one upload each teacher's, one failed with its error (not transcoded here)
    for owner, status in ((staff["teacher"], "failed"), (staff["teacher2"], "queued")):
        MediaAsset.objects.create(
            title=f"{owner.nickname}的视频",
            source=f"media-sources/{owner.pk}.mp4",
            status=status,
            error="ffprobe: Invalid data found when processing input" if status == "failed" else "",
            created_by=owner,
        )

    # ---- circles: two owners; members, posts, comments, a tip, a paid question --------------------------
    from circles.models import CircleSettings, TipIntent
    from circles.services import comments as comment_services
    from circles.services import posts as post_services
    from circles.services import questions as question_services
    from tests.circles import factories as circle_f

    CircleSettings.current()
    circle = circle_f.make_circle(owner=staff["owner"], qa_enabled=True, qa_price_fen=990)
    circle2 = circle_f.make_circle(owner=staff["owner2"])
    circle2.name = "圈主二的圈"
    circle2.save(update_fields=["name"])
    o["circle"], o["circle2"] = circle, circle2
    circle_f.make_member(circle=circle, user=alice)
    circle_f.make_member(circle=circle2, user=bob)
    circle_f.make_guest(circle=circle, user=carol)
    post = post_services.post_create(circle=circle, author=alice, body="第一帖：大家好")
    post2 = post_services.post_create(circle=circle2, author=bob, body="圈二的帖子")
    o["post"], o["post2"] = post, post2
    o["comment"] = comment_services.comment_create(post=post, author=carol, body="欢迎")
    TipIntent.objects.create(
        circle=circle,
        tipper=carol,
        recipient=alice,
        post=post,
        amount_fen=500,
        author_share_fen=450,
        platform_fee_fen=50,
    )
    question_services.paid_question_create(circle=circle, asker=alice, guest=carol, body="怎么开始？")

    # ---- referrals: a promoter, a commission on a referred purchase, group buys, staff share ---------------
    from referrals.models import (
        AgreementAcceptance,
        BindingRefusal,
        GroupBuy,
        Promoter,
        ReferralLinkStat,
        SalesLead,
        SalesTeam,
        SalesTeamMember,
        StaffShareAdjustment,
        StaffShareBracket,
        StaffShareLine,
        StaffShareMonth,
        StaffShareOverride,
        StaffShareOverrideAdjustment,
        StaffShareStatement,
    )
    from tests.referrals import factories as ref_f

    ref_f.configure(earning_requires_membership=False)
    ref_f.level("normal", 1, is_default=True, commission_rate_bp=1000)
    ref_f.rule(item_type="membership", rate_bp=1000)
    agreement = ref_f.agreement()
    promoter = UserFactory(username="promoter", nickname="推广员")
    Promoter.objects.get_or_create(user=promoter)
    AgreementAcceptance.objects.create(user=promoter, agreement=agreement, ip="127.0.0.1")
    buyer = UserFactory(username="dave", nickname="戴夫")
    world.members.update(promoter=promoter, dave=buyer)
    ref_f.bind(buyer, promoter)
    o["referred_order"] = create_paid_order(
        user=buyer, item_type="membership", item_id="VIP", referral_code=promoter.referral_code
    )
    # reps: alice → sales + service, bob and dave → sales2, carol → nobody (round-robin undone)
    Onboarding.objects.update(sales_rep=None, service_rep=None)
    Onboarding.objects.filter(user=alice).update(sales_rep=staff["sales"], service_rep=staff["service"])
    Onboarding.objects.filter(user__in=[bob, buyer]).update(sales_rep=staff["sales2"])
    BindingRefusal.objects.create(user=bob, referrer=promoter, code=promoter.referral_code, reason="self")
    ReferralLinkStat.objects.create(user=promoter, channel="poster", visits=12, signups=3)
    offer = ref_f.offer(item_type="membership", item_id="VIP", price_fen=300_000)
    GroupBuy.objects.create(offer=offer, initiator=carol, size=3, price_fen=300_000)
    StaffShareBracket.objects.get_or_create(lower_fen=0, defaults={"rate_bp": 500})
    month = StaffShareMonth.objects.create(
        month=(timezone.localdate().replace(day=1) - timedelta(days=40)).replace(day=1),
        closed_by=staff["finance"],
        volume_fen=360_000,
        share_fen=18_000,
    )
    statement = StaffShareStatement.objects.create(
        month=month, rep=staff["sales"], gross_fen=360_000, net_fen=360_000, share_fen=18_000, orders_count=1
    )
    month2 = StaffShareMonth.objects.create(
        month=(timezone.localdate().replace(day=1) - timedelta(days=5)).replace(day=1),
        closed_by=staff["finance"],
    )
    statement2 = StaffShareStatement.objects.create(month=month2, rep=staff["sales"])
    StaffShareAdjustment.objects.create(statement=statement2, source=statement, refunded_fen=0, amount_fen=0)
    StaffShareLine.objects.create(statement=statement, order=o["vip_order"], member=alice, amount_fen=360_000)
    # sales credit: a lead given to sales, a team under sales2 with a 1% override on sales' volume
    SalesLead.objects.create(
        user=carol, rep=staff["sales"], assigned_by=staff["operator"], assigned_at=timezone.now()
    )
    team = SalesTeam.objects.create(name="一组", supervisor=staff["sales2"], override_bp=100)
    SalesTeamMember.objects.create(team=team, rep=staff["sales"])
    override = StaffShareOverride.objects.create(
        month=month,
        supervisor=staff["sales2"],
        team=team,
        team_name="一组",
        rate_bp=100,
        volume_fen=360_000,
        share_fen=3_600,
    )
    StaffShareStatement.objects.filter(pk=statement.pk).update(override=override)
    override2 = StaffShareOverride.objects.create(
        month=month2, supervisor=staff["sales2"], team=team, rate_bp=100
    )
    StaffShareOverrideAdjustment.objects.create(
        override=override2, source=override, refunded_fen=0, amount_fen=0
    )

    # ---- growth: a company's batch of redeem codes, one redeemed -------------------------------------------
    o["redeem_batch"] = redeem_codes.batch_create(  # a course: no membership, so no rep is rotated in
        name="星河科技 课程",
        item_type="course",
        item_id=str(course.pk),
        size=3,
        expires_at=timezone.now() + timedelta(days=30),
        created_by=staff["operator"],
    )
    redeem_codes.code_redeem(
        user=UserFactory(username="redeemer"), raw_code=o["redeem_batch"].codes.first().code
    )
    # ---- growth: a flash sale on its own course, one unit sold ----------------------------------------------
    sale_course = course_f.make_course(teacher=staff["teacher"], title="特价课", price_fen=19_900)
    o["flash_sale"] = flash_sales.sale_create(
        name="双十一特价",
        item_type="course",
        item_id=str(sale_course.pk),
        sale_price_fen=9_900,
        starts_at=timezone.now() - timedelta(minutes=1),
        ends_at=timezone.now() + timedelta(days=1),
        stock=5,
        created_by=staff["operator"],
    )
    create_paid_order(
        user=UserFactory(username="flash_buyer"), item_type="course", item_id=str(sale_course.pk)
    )

    # ---- growth: a tag, a segment, a campaign sent to it, a member's marketing choices -------------------
    o["tag"] = Tag.objects.create(name="重点客户", colour="#d93026")
    tag_add(tag=o["tag"], users=[alice], operator=staff["operator"])
    o["segment"] = Segment.objects.create(
        name="全部会员", rule={"conditions": []}, created_by=staff["operator"]
    )
    o["campaign"] = Campaign.objects.create(
        name="新课上线", segment=o["segment"], title="新课上线", body="欢迎试听", created_by=staff["operator"]
    )
    campaign_schedule(campaign=o["campaign"], operator=staff["superuser"])
    campaign_send_slice(campaign_id=o["campaign"].pk)
    preference_update(user=alice, sms_consent=True)

    # ---- growth: a coupon issued to two members, one used on a paid order ----------------------------------
    o["coupon"] = Coupon.objects.create(name="新人券", kind="amount", amount_off_fen=1_000, code="WELCOME10")
    holder = UserFactory(username="coupon_holder")
    coupon_issue(coupon=o["coupon"], users=[alice, holder], source="operator", actor=staff["operator"])
    o["coupon_order"] = create_paid_order(
        user=holder, item_type="course", item_id=str(course.pk), coupon_code="WELCOME10"
    )

    # ---- payments: a refund, ledger earnings and settlement, withdrawals, reconciliation -----------------
    o["refund"] = refund_order(order=o["course_order"], amount_fen=1_000, reason="部分退款")
    WithdrawalSettings.current()
    earn(alice, 50_000)
    Brand.objects.create(site_name="晨读社", primary_color="#3355cc")
    AttemptCounter.objects.create(key="login:ip:203.0.113.9", window_start=timezone.now(), count=3)
    WeChatIdentity.objects.create(
        user=alice, kind="miniprogram", appid="wx_test_miniprogram", openid="o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
    )
    o["withdrawal"] = withdrawals.withdrawal_request(user=alice, amount_fen=2_000, method="sandbox")
    o["bank_withdrawal"] = withdrawals.withdrawal_request(
        user=alice,
        amount_fen=3_000,
        method="bank",
        real_name="王小明",
        bank_name="招商银行",
        bank_account="6225880123456789",
    )
    paid = withdrawals.withdrawal_request(user=alice, amount_fen=1_000, method="sandbox")
    with TestCase.captureOnCommitCallbacks(execute=True):
        withdrawal_approval.withdrawal_approve(withdrawal=paid, operator=staff["finance"])
    ledger_check.ledger_check_record(trigger="admin")
    run = ReconciliationRun.objects.create(bill_date=timezone.localdate() - timedelta(days=1), status="done")
    o["mismatch"] = ReconciliationMismatch.objects.create(
        run=run, kind="missing_local", out_trade_no="NOPE123", bill_amount_fen=100, detail="账单有、本地无"
    )

    # ---- insights, third-party admins -----------------------------------------------------------------
    from insights import services as insight_services

    insight_services.report_build(kind="daily")
    _third_party_rows(alice)
    return world


def _third_party_rows(user: User) -> None:
    """Rows for the admins other packages register (allauth, simplejwt, celery beat)."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from rest_framework_simplejwt.tokens import RefreshToken

    EmailAddress.objects.create(user=user, email="alice@example.com", verified=True, primary=True)
    app = SocialApp.objects.create(provider="weixin", name="微信网站应用", client_id="wx_web", secret="s")
    account = SocialAccount.objects.create(user=user, provider="weixin", uid="o_web_alice")
    SocialToken.objects.create(app=app, account=account, token="t")
    from allauth.usersessions.models import UserSession

    UserSession.objects.create(user=user, ip="203.0.113.7", session_key="admin-world-session", user_agent="t")
    RefreshToken.for_user(user).blacklist()
    interval, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    CrontabSchedule.objects.get_or_create(minute="0", hour="8")
    ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=1))
    SolarSchedule.objects.get_or_create(event="sunrise", latitude=31.23, longitude=121.47)
    PeriodicTask.objects.get_or_create(name="admin-world", defaults={"task": "noop", "interval": interval})


CLOSED_URL = "http://127.0.0.1:9"  # no network while the world is built (as tests/conftest.py)


@contextmanager
def built_for_module(django_db_blocker, tmp_path_factory):
    """`build()` once for a test module, inside an outer transaction rolled back at its end, with the
    sandbox on and WeChat unreachable while it builds; the settings are restored afterwards."""
    from django.conf import settings

    names = (
        "PAYMENTS_SANDBOX_ENABLED",
        "PAYMENTS_SANDBOX_KEY_DIR",
        "WECHAT_API_BASE_URL",
        "WECHATPAY_GATEWAY_URL",
    )
    saved = {name: getattr(settings, name) for name in names}
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.WECHAT_API_BASE_URL = settings.WECHATPAY_GATEWAY_URL = CLOSED_URL
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            for name, value in saved.items():
                setattr(settings, name, value)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
