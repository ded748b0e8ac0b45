"""Query budgets: every list API and list page answers in a fixed number of SQL statements, whatever it shows.

Each case builds its list with a few items, counts the statements of one request, grows the list, counts
again: the two counts must be equal (no statement per item) and within the case's budget. The budgets
are the numbers measured when they were set — a regression fails here.

The list endpoints are discovered, not listed by hand: every GET operation of the OpenAPI schema whose
answer is an array or a paginated page must have a case in `API_CASES`, and every page URL of the URL
conf must be either in `PAGE_CASES` or in `NOT_LIST_PAGES` with the reason. So a new list endpoint
without a budget fails `test_every_list_api_has_a_budget` / `test_every_page_is_classified`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MARK = "qb"  # every listed item carries "qb<n>x" in a field the list shows (title, nickname, text …)
_serial = count(1)


def mark(prefix: str = "") -> str:
    return f"{prefix}{MARK}{next(_serial)}x"


def marks_in(body: str) -> int:
    return len(set(re.findall(rf"{MARK}(\d+)x", body)))


@dataclass
class Scenario:
    """A list and the means to grow it: `grow(n)` adds n items the list at `path` shows to `user`."""

    path: str
    grow: Callable[[int], None]
    user: object = None
    # how many items an answer shows; default: distinct markers in the body
    shown: Callable[[str], int] = marks_in
    ids: dict = field(default_factory=dict)  # what page paths are formatted with (course, term, circle …)


@dataclass
class Case:
    build: Callable[[], Scenario]
    budget: int
    note: str = ""
    extra: dict = field(default_factory=dict)


def statements(scenario: Scenario, *, page: bool) -> tuple[int, str]:
    if page:
        from django.test import Client

        client = Client()
        if scenario.user is not None:
            client.force_login(scenario.user)
    else:
        client = APIClient()
        if scenario.user is not None:
            client.force_authenticate(scenario.user)
    client.get(scenario.path)  # first-use caches (content types, site, …) are not the list's cost
    with CaptureQueriesContext(connection) as captured:
        response = client.get(scenario.path)
    assert response.status_code == 200, (scenario.path, response.status_code, response.content[:500])
    return len(captured.captured_queries), response.content.decode()


# ---- builders ----------------------------------------------------------------------------------------------


def _member(**fields):
    return UserFactory(nickname=fields.pop("nickname", mark("会员")), **fields)


def _vip():
    from tests.courses.factories import vip_tier

    return vip_tier()


def _active_vip(user):
    from tests.courses.factories import give_tier

    return give_tier(user, _vip())


def catalog_courses() -> Scenario:
    from tests.courses.factories import make_course

    reader = _member()
    _active_vip(reader)
    teacher = _member()

    def grow(n):
        for i in range(n):
            make_course(title=mark("课程"), teacher=teacher, tiers=[_vip()] if i % 2 else [], lessons=2)

    return Scenario("/api/v1/courses/", grow, reader)


def my_courses() -> Scenario:
    from courses.models import CourseEnrolment
    from tests.courses.factories import make_course

    reader = _member()

    def grow(n):
        for _ in range(n):
            course = make_course(title=mark("课程"), lessons=2)
            CourseEnrolment.objects.create(course=course, user=reader, source="purchase")

    return Scenario("/api/v1/courses/mine/", grow, reader)


def course_lessons() -> Scenario:
    from courses.models import Lesson, LessonProgress
    from tests.courses.factories import make_course

    reader = _member()
    _active_vip(reader)
    course = make_course(title="课程", tiers=[_vip()], lessons=0)
    position = count(1)

    def grow(n):
        for _ in range(n):
            lesson = Lesson.objects.create(
                course=course,
                title=mark("课"),
                position=next(position),
                kind="text",
                body="讲义",
            )
            LessonProgress.objects.create(user=reader, lesson=lesson, course=course, position_seconds=30)

    return Scenario(f"/api/v1/courses/{course.pk}/", grow, reader, ids={"course": course.pk})


def events() -> Scenario:
    from tests.courses.factories import make_event

    reader = _member()
    organizer = _member()

    def grow(n):
        for i in range(n):
            make_event(title=mark("活动"), organizer=organizer, tiers=[_vip()] if i % 2 else [])

    return Scenario("/api/v1/events/", grow, reader)


def my_tickets() -> Scenario:
    from courses.models import EventRegistration
    from tests.courses.factories import make_event

    reader = _member()
    organizer = _member()

    def grow(n):
        for _ in range(n):
            event = make_event(title=mark("活动"), organizer=organizer)
            EventRegistration.objects.create(
                event=event, user=reader, status="confirmed", ticket_code=mark("T").upper()[:16]
            )

    return Scenario("/api/v1/events/tickets/", grow, reader)


def my_ticket_page() -> Scenario:
    """电子票: tickets bought, tier-included (a VIP reader), of past events and refunded ones."""
    from courses.models import EventRegistration
    from tests.courses.factories import make_event

    reader = _member()
    _active_vip(reader)
    organizer = _member()
    kind = count()

    def grow(n):
        for _ in range(n):
            way = next(kind) % 4
            days = -20 if way == 2 else 10
            event = make_event(
                title=mark("活动"),
                organizer=organizer,
                tiers=[_vip()] if way == 1 else [],
                starts_in=timedelta(days=days),
            )
            EventRegistration.objects.create(
                event=event,
                user=reader,
                status="refunded" if way == 3 else "confirmed",
                source="tier" if way == 1 else "purchase",
                ticket_code=mark("T").upper()[:16],
            )

    return Scenario("/courses/mine/tickets/", grow, reader)


def my_camp_page() -> Scenario:
    """训练营与证书: running terms (today's task), upcoming ones, tier seats and ended terms with a
    certificate."""
    from courses.models import TermSeat

    reader = _member()
    _active_vip(reader)
    teacher = _member()
    kind = count()

    def grow(n):
        for _ in range(n):
            way = next(kind) % 4
            ago = {0: 2, 1: 2, 2: -3, 3: 40}[way]
            _camp, term = _term(
                title=mark("营"), teacher=teacher, tiers=[_vip()] if way == 1 else [], started_days_ago=ago
            )
            seat = TermSeat.objects.create(term=term, user=reader, source="tier" if way == 1 else "purchase")
            if way == 3:
                TermSeat.objects.filter(pk=seat.pk).update(
                    checkin_days=30, completed_at=timezone.now(), certificate_no=mark("ZQ")
                )

    return Scenario("/courses/mine/camps/", grow, reader)


def camps() -> Scenario:
    from tests.courses.factories import make_camp

    reader = _member()
    teacher = _member()

    def grow(n):
        for i in range(n):
            make_camp(title=mark("营"), teacher=teacher, tiers=[_vip()] if i % 2 else [])

    return Scenario("/api/v1/camps/", grow, reader)


def _term(**kwargs):
    from tests.courses.factories import make_camp

    return make_camp(title=kwargs.pop("title", "训练营"), days=kwargs.pop("days", 30), **kwargs)


def my_camps() -> Scenario:
    from courses.models import TermSeat

    reader = _member()
    teacher = _member()

    def grow(n):
        for _ in range(n):
            _camp, term = _term(title=mark("营"), teacher=teacher)
            TermSeat.objects.create(term=term, user=reader, source="purchase")

    return Scenario("/api/v1/camps/mine/", grow, reader)


def _checkins(*, term, status: str, text_mark: bool = True):
    """grow(n): n members join `term` and check in today (status given), text carrying a marker."""
    from courses.models import CampTask, CheckIn, TermSeat

    task = CampTask.objects.get(camp=term.camp, day=(timezone.localdate() - term.start_date).days + 1)

    def grow(n):
        for _ in range(n):
            user = _member()
            seat = TermSeat.objects.create(term=term, user=user, source="purchase", points=10, checkin_days=1)
            CheckIn.objects.create(
                seat=seat,
                term=term,
                user=user,
                task=task,
                day=timezone.localdate(),
                text=mark("打卡") if text_mark else "打卡",
                status=status,
            )

    return grow


def term_feed(suffix: str = "checkins/") -> Scenario:
    from courses.models import TermSeat

    reader = _member()
    _camp, term = _term(teacher=_member())
    TermSeat.objects.create(term=term, user=reader, source="purchase")
    return Scenario(
        f"/api/v1/camps/terms/{term.pk}/{suffix}",
        _checkins(term=term, status="visible"),
        reader,
        ids={"term": term.pk},
    )


def term_leaderboard() -> Scenario:
    return term_feed("leaderboard/")


def term_calendar() -> Scenario:
    """The calendar always lists every day of the term; growing it means more of them are done."""
    from courses.models import CampTask, CheckIn, TermSeat

    reader = _member()
    _camp, term = _term(teacher=_member(), started_days_ago=25)
    seat = TermSeat.objects.create(term=term, user=reader, source="purchase")
    day = count(1)

    def grow(n):
        for _ in range(n):
            d = next(day)
            CheckIn.objects.create(
                seat=seat,
                term=term,
                user=reader,
                task=CampTask.objects.get(camp=term.camp, day=d),
                day=term.start_date + timedelta(days=d - 1),
                text="打卡",
                status="visible",
            )

    return Scenario(
        f"/api/v1/camps/terms/{term.pk}/calendar/",
        grow,
        reader,
        shown=lambda body: body.count('"done"'),
        ids={"term": term.pk},
    )


def review_queue() -> Scenario:
    teacher = _member()
    _camp, term = _term(teacher=teacher)
    return Scenario("/api/v1/camps/reviews/", _checkins(term=term, status="visible"), teacher)


def homework_queue() -> Scenario:
    from courses.learning import homework
    from tests.courses.factories import make_course
    from tests.courses.learning_helpers import make_homework

    teacher = _member()
    course = make_course(teacher=teacher, price_fen=0, lessons=1, previews=1)
    lesson = course.lessons.get()
    make_homework(lesson)

    def grow(n):
        for _ in range(n):
            homework.homework_submit(user=_member(), lesson=lesson, text=mark("作业"))

    return Scenario("/api/v1/homework/reviews/", grow, teacher)


def moderation_queue() -> Scenario:
    teacher = _member()
    _camp, term = _term(teacher=teacher)
    return Scenario("/api/v1/camps/moderation/", _checkins(term=term, status="review"), teacher)


def camp_terms() -> Scenario:
    from courses.models import Term

    reader = _member()
    camp, _term_ = _term(teacher=_member())
    start = count(1)

    def grow(n):
        for _ in range(n):
            Term.objects.create(
                camp=camp,
                name=mark("期"),
                start_date=timezone.localdate() + timedelta(days=next(start)),
                days=30,
            )

    return Scenario(f"/api/v1/camps/{camp.pk}/", grow, reader, ids={"camp": camp.pk})


# circles ------------------------------------------------------------------------------------------------------


def _circle(owner=None, **options):
    from tests.circles.factories import make_circle

    return make_circle(owner=owner or _member(), **options)


def _circle_member(circle, user=None):
    from tests.circles.factories import make_member

    return make_member(circle=circle, user=user or _member())


def circles() -> Scenario:
    reader = _member()
    owner = _member()

    def grow(n):
        for _ in range(n):
            circle = _circle(owner)
            circle.name = mark("圈")
            circle.save(update_fields=["name"])
            _circle_member(circle)

    return Scenario("/api/v1/circles/", grow, reader)


def my_circles() -> Scenario:
    """我的圈子: circles bought, owned and included in the reader's tier, each with a newer post."""
    from circles.models import Post
    from tests.circles.factories import give_tier

    reader = _member()
    tier = give_tier(user=reader)
    kind = count()

    def grow(n):
        for _ in range(n):
            way = next(kind) % 3
            circle = _circle(reader if way == 1 else None)
            if way == 0:
                _circle_member(circle, reader)
            elif way == 2:
                circle.included_in_tiers.add(tier)
            Post.objects.create(circle=circle, author=circle.owner, title=mark("帖"), body="正文")

    return Scenario("/circles/mine/", grow, reader)


def _posts(circle, *, status="visible", authors=None):
    from circles.models import Post, PostLike

    def grow(n):
        for _ in range(n):
            author = authors() if authors else _member()
            post = Post.objects.create(
                circle=circle, author=author, kind="talk", title=mark("帖"), body="正文", status=status
            )
            PostLike.objects.create(post=post, user=author)

    return grow


def circle_feed() -> Scenario:
    circle = _circle()
    reader = _circle_member(circle)
    grow = _posts(circle)

    def grow_counted(n):
        grow(n)
        from circles.models import Circle, Post

        Circle.objects.filter(pk=circle.pk).update(
            visible_post_count=Post.objects.filter(circle=circle, status="visible").count()
        )

    return Scenario(f"/api/v1/circles/{circle.pk}/posts/", grow_counted, reader, ids={"circle": circle.pk})


def circle_leaderboard() -> Scenario:
    circle = _circle()
    reader = _circle_member(circle)
    return Scenario(
        f"/api/v1/circles/{circle.pk}/leaderboard/",
        _posts(circle, authors=lambda: _circle_member(circle)),
        reader,
        ids={"circle": circle.pk},
    )


def circle_members() -> Scenario:
    circle = _circle()
    return Scenario(
        f"/api/v1/circles/{circle.pk}/members/",
        lambda n: [_circle_member(circle) for _ in range(n)],
        circle.owner,
        ids={"circle": circle.pk},
    )


def circle_moderation() -> Scenario:
    circle = _circle()
    return Scenario(f"/api/v1/circles/{circle.pk}/moderation/", _posts(circle, status="review"), circle.owner)


def circle_scheduled() -> Scenario:
    circle = _circle()

    def grow(n):
        from datetime import timedelta

        from django.utils import timezone

        from circles.models import Post

        for i in range(n):
            Post.objects.create(
                circle=circle,
                author=circle.owner,
                title=mark("定时"),
                body="正文",
                status="scheduled",
                publish_at=timezone.now() + timedelta(hours=i + 1),
            )

    return Scenario(f"/api/v1/circles/{circle.pk}/posts/scheduled/", grow, circle.owner)


def circle_guests() -> Scenario:
    from tests.circles.factories import make_guest

    circle = _circle()
    reader = _member()
    return Scenario(
        f"/api/v1/circles/{circle.pk}/",
        lambda n: [make_guest(circle=circle, user=_member()) for _ in range(n)],
        reader,
    )


def post_comments(suffix: str = "") -> Scenario:
    from circles.models import Comment, Post

    circle = _circle()
    reader = _circle_member(circle)
    post = Post.objects.create(circle=circle, author=reader, kind="talk", title="帖", body="正文")

    def grow(n):
        for _ in range(n):
            author = _circle_member(circle)
            parent = Comment.objects.create(post=post, author=author, body=mark("评"))
            Comment.objects.create(post=post, author=reader, parent=parent, body=mark("回"))

    return Scenario(f"/api/v1/circles/posts/{post.pk}/{suffix}", grow, reader, ids={"post": post.pk})


def post_comments_page() -> Scenario:
    return post_comments("comments/")


def my_paid_questions() -> Scenario:
    from circles.models import PaidQuestion

    circle = _circle()
    asker = _circle_member(circle)

    def grow(n):
        for _ in range(n):
            guest = _circle_member(circle)
            PaidQuestion.objects.create(
                circle=circle, asker=asker, guest=guest, body=mark("问"), price_fen=990
            )

    return Scenario("/api/v1/circles/questions/", grow, asker)


# members ------------------------------------------------------------------------------------------------------


def tiers() -> Scenario:
    from members.models import MembershipTier

    rank = count(10)

    def grow(n):
        for _ in range(n):
            r = next(rank)
            MembershipTier.objects.create(
                code=f"T{r}", name=mark("等级"), price_fen=100 * r, rank=r, member_no_prefix=f"T{r}"
            )

    return Scenario("/api/v1/membership/tiers/", grow, _member())


def membership_offers() -> Scenario:
    """An active VIP member: every higher tier on sale is an upgrade offer priced with credit."""
    from members.models import MembershipTier

    reader = _member()
    _active_vip(reader)
    rank = count(10)

    def grow(n):
        for _ in range(n):
            r = next(rank)
            MembershipTier.objects.create(
                code=f"U{r}", name=mark("升级"), price_fen=1_000_000 + r, rank=r, member_no_prefix=f"U{r}"
            )

    return Scenario("/api/v1/membership/mine/", grow, reader)


def notifications() -> Scenario:
    from members.models import Notification

    reader = _member()
    return Scenario(
        "/api/v1/notifications/",
        lambda n: Notification.objects.bulk_create(
            [Notification(user=reader, kind="system", title=mark("通知")) for _ in range(n)]
        ),
        reader,
    )


def points_history() -> Scenario:
    from members.points.services import points_award

    reader = _member()
    return Scenario(
        "/api/v1/points/",
        lambda n: [
            points_award(user=reader, amount=10, reason=(m := mark("签到")), idempotency_key=m)
            for _ in range(n)
        ],
        reader,
    )


def rewards() -> Scenario:
    from members.models import Reward
    from tests.courses.factories import make_course

    reader = _member()

    def grow(n):
        for _ in range(n):
            course = make_course(title="兑换课", lessons=1)
            Reward.objects.create(
                title=mark("奖品"), item_type="course", item_id=str(course.pk), points_price=100
            )

    return Scenario("/api/v1/points/rewards/", grow, reader)


# payments -----------------------------------------------------------------------------------------------------


def my_orders() -> Scenario:
    from payments.models import Order

    buyer = _member()

    def grow(n):
        for i in range(n):
            Order.objects.create(
                order_no=mark("Q").upper(),
                user=buyer,
                item_type="course",
                item_id="1",
                title=mark("订单"),
                list_price_fen=100,
                amount_fen=100,
                channel="wechat_native",
                status="paid" if i % 2 else "pending",
                paid_at=timezone.now() if i % 2 else None,
                expires_at=timezone.now() + timedelta(minutes=30),
            )

    return Scenario("/api/v1/orders/", grow, buyer)


def _earnings(user):
    from payments.wallet import earnings

    def grow(n):
        for _ in range(n):
            earnings.earning_accrue(
                user=user,
                amount_fen=500,
                source="tip",
                idempotency_key=(key := mark("earn")),
                hold_until=timezone.now() + timedelta(days=7),
                description=key,
            )

    return grow


def wallet_earnings() -> Scenario:
    reader = _member()
    return Scenario("/api/v1/wallet/earnings/", _earnings(reader), reader)


def wallet_withdrawals() -> Scenario:
    from payments.models import Withdrawal

    reader = _member()

    def grow(n):
        for _ in range(n):
            Withdrawal.objects.create(user=reader, amount_fen=1000, method="bank", out_bill_no=mark("W"))

    return Scenario(
        "/api/v1/wallet/withdrawals/",
        grow,
        reader,
        shown=lambda body: body.count('"amount_fen"'),
    )


# referrals ----------------------------------------------------------------------------------------------------


def _referrals(*, buy: bool):
    """(alice, grow): grow(n) signs up n friends through alice's code; with buy, each pays an order."""
    from members.auth.services import user_signed_up
    from tests.payments.catalog import TEST_ITEM
    from tests.payments.helpers import create_paid_order
    from tests.referrals import factories as rf

    rf.rule(rate_bp=1000)
    alice = _member()

    def grow(n):
        for _ in range(n):
            friend = _member()
            user_signed_up(user=friend, referral_code=alice.referral_code, source="web")
            if buy:
                create_paid_order(user=friend, item_type=TEST_ITEM, item_id="A")

    return alice, grow


def referrals_invited() -> Scenario:
    alice, grow = _referrals(buy=True)
    return Scenario("/api/v1/referrals/invited/", grow, alice, shown=lambda body: body.count('"has_paid"'))


def referrals_commissions() -> Scenario:
    alice, grow = _referrals(buy=True)
    return Scenario(
        "/api/v1/referrals/commissions/", grow, alice, shown=lambda body: body.count('"amount_fen"')
    )


def referrals_leaderboard() -> Scenario:
    from members.auth.services import user_signed_up
    from tests.payments.catalog import TEST_ITEM
    from tests.payments.helpers import create_paid_order
    from tests.referrals import factories as rf

    rf.rule(rate_bp=1000)

    def grow(n):
        for _ in range(n):
            promoter, friend = _member(), _member()
            user_signed_up(user=friend, referral_code=promoter.referral_code, source="web")
            create_paid_order(user=friend, item_type=TEST_ITEM, item_id="A")

    return Scenario(
        "/api/v1/referrals/leaderboard/", grow, _member(), shown=lambda body: body.count('"rank"')
    )


def group_buy_offers() -> Scenario:
    from tests.payments.catalog import TEST_ITEM
    from tests.referrals import factories as rf

    def grow(n):
        for _ in range(n):
            rf.offer(item_type=TEST_ITEM, item_id="A", title=mark("拼团"))

    return Scenario("/api/v1/referrals/group-buys/offers/", grow, _member())


def group_buys_mine() -> Scenario:
    from referrals import group_buys
    from tests.payments.catalog import TEST_ITEM
    from tests.referrals import factories as rf

    reader = _member()

    def grow(n):
        for _ in range(n):
            offer = rf.offer(item_type=TEST_ITEM, item_id="A", title=mark("拼团"))
            group_buys.group_buy_open(user=reader, offer=offer)

    return Scenario("/api/v1/referrals/group-buys/mine/", grow, reader)


def group_buy_open_groups() -> Scenario:
    from referrals import group_buys
    from tests.payments.catalog import TEST_ITEM
    from tests.referrals import factories as rf

    offer = rf.offer(item_type=TEST_ITEM, item_id="A", title="拼团")

    def grow(n):
        from referrals.models import GroupBuy

        for _ in range(n):  # the initiator paid: the group is forming, open to join
            seat = group_buys.group_buy_open(user=_member(), offer=offer)
            GroupBuy.objects.filter(pk=seat.group_id).update(
                status="forming",
                paid_count=1,
                opened_at=timezone.now(),
                expires_at=timezone.now() + timedelta(hours=20),
            )

    return Scenario(
        f"/api/v1/referrals/group-buys/offers/{offer.pk}/",
        grow,
        _member(),
        shown=lambda body: body.count('"places_left"'),
        ids={"offer": offer.pk},
    )


def flash_sales() -> Scenario:
    """限时特价: running and upcoming sales, each on its own course, for a visitor."""
    from tests.courses.factories import make_course
    from tests.growth.flash_helpers import make_sale

    def grow(n):
        for i in range(n):
            course = make_course(title="课程", lessons=0)
            starts_in = timedelta(hours=1) if i % 2 else timedelta(minutes=-1)
            make_sale(item_id=course.pk, name=mark("特价"), starts_in=starts_in)

    return Scenario("/api/v1/flash-sales/", grow)


def _coupon_copies(*, item_types=()) -> tuple[object, Callable[[int], None]]:
    """A member and the means to give them n coupons (each its own coupon, its name marked)."""
    from growth.coupons.issuing import coupon_issue
    from growth.models import Coupon

    reader = _member()

    def grow(n):
        for _ in range(n):
            coupon = Coupon.objects.create(
                name=mark("券"), kind="amount", amount_off_fen=100, item_types=list(item_types)
            )
            coupon_issue(coupon=coupon, users=[reader], source="operator", actor=None)

    return reader, grow


def my_coupons() -> Scenario:
    reader, grow = _coupon_copies()
    return Scenario("/api/v1/coupons/mine/", grow, reader)


def usable_coupons() -> Scenario:
    from tests.courses.factories import make_course

    course = make_course(price_fen=19_900)
    reader, grow = _coupon_copies(item_types=["course"])
    return Scenario(f"/api/v1/coupons/usable/?item_type=course&item_id={course.pk}", grow, reader)


# GET path of the OpenAPI schema → its case (paths are the contract; operation ids get renamed).
API_CASES: dict[str, Case] = {
    # courses, events, camps
    "/api/v1/courses/": Case(catalog_courses, 0, "rows and the member's entitlements from the cache"),
    "/api/v1/courses/mine/": Case(my_courses, 5),
    "/api/v1/courses/{course_id}/": Case(course_lessons, 1, "lessons with this member's progress"),
    "/api/v1/events/": Case(events, 3),
    "/api/v1/events/tickets/": Case(my_tickets, 2),
    "/api/v1/camps/": Case(camps, 4),
    "/api/v1/camps/mine/": Case(my_camps, 1),
    "/api/v1/camps/{camp_id}/": Case(
        camp_terms, 16, "the camp's terms; the featured term priced through every adjuster, as its order"
    ),
    "/api/v1/camps/terms/{term_id}/checkins/": Case(term_feed, 4),
    "/api/v1/camps/terms/{term_id}/leaderboard/": Case(term_leaderboard, 5),
    "/api/v1/camps/terms/{term_id}/calendar/": Case(term_calendar, 5),
    "/api/v1/camps/reviews/": Case(review_queue, 5),
    "/api/v1/homework/reviews/": Case(homework_queue, 3),
    "/api/v1/camps/moderation/": Case(moderation_queue, 2),
    # circles
    "/api/v1/circles/": Case(circles, 2),
    "/api/v1/circles/{circle_id}/posts/": Case(circle_feed, 1),
    "/api/v1/circles/{circle_id}/leaderboard/": Case(circle_leaderboard, 8),
    "/api/v1/circles/{circle_id}/members/": Case(circle_members, 4),
    "/api/v1/circles/{circle_id}/posts/scheduled/": Case(
        circle_scheduled, 3, "the circle, the reader's access, the posts"
    ),
    "/api/v1/circles/{circle_id}/moderation/": Case(
        circle_moderation, 4, "posts and comments waiting for review"
    ),
    "/api/v1/circles/{circle_id}/": Case(circle_guests, 7, "the circle's guests"),
    "/api/v1/circles/posts/{post_id}/": Case(
        post_comments, 3, "the first page of comments with their replies"
    ),
    "/api/v1/circles/posts/{post_id}/comments/": Case(
        post_comments_page, 4, "the post and the reader's access, the count, the page with its replies"
    ),
    "/api/v1/circles/questions/": Case(my_paid_questions, 2),
    # members
    "/api/v1/membership/tiers/": Case(tiers, 1),
    "/api/v1/membership/mine/": Case(membership_offers, 4, "renew/upgrade offers, one per tier on sale"),
    "/api/v1/notifications/": Case(notifications, 3),
    "/api/v1/points/": Case(points_history, 3),
    "/api/v1/points/rewards/": Case(rewards, 2),
    # payments
    "/api/v1/orders/": Case(my_orders, 2),
    "/api/v1/wallet/earnings/": Case(wallet_earnings, 2),
    "/api/v1/wallet/withdrawals/": Case(wallet_withdrawals, 2),
    # referrals
    "/api/v1/referrals/invited/": Case(referrals_invited, 2),
    "/api/v1/referrals/commissions/": Case(referrals_commissions, 2),
    "/api/v1/referrals/leaderboard/": Case(referrals_leaderboard, 2),
    "/api/v1/referrals/group-buys/offers/": Case(group_buy_offers, 1),
    "/api/v1/referrals/group-buys/mine/": Case(group_buys_mine, 2),
    "/api/v1/referrals/group-buys/offers/{offer_id}/": Case(
        group_buy_open_groups, 2, "open groups of the offer"
    ),
    # growth
    "/api/v1/flash-sales/": Case(flash_sales, 2, "the count and the page"),
    "/api/v1/coupons/mine/": Case(my_coupons, 2),
    "/api/v1/coupons/usable/": Case(
        usable_coupons, 10, "the item priced once (with a running flash sale), then counts for all coupons"
    ),
}


# ---- discovery -----------------------------------------------------------------------------------------------


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def list_operations(schema: dict) -> set[str]:
    """Paths of every GET answering a list (a JSON array or a {count, results} page)."""
    found = set()
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        content = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        body = _resolve(schema, content.get("schema", {}))
        if body.get("type") == "array" or "results" in body.get("properties", {}):
            found.add(path)
    return found


def test_every_list_api_has_a_budget():
    schema = _schema()
    lists = list_operations(schema)
    assert len(lists) >= 20, "the schema lost its list endpoints?"
    missing = sorted(lists - set(API_CASES))
    assert not missing, f"list APIs without a query budget in {__file__}: {missing}"
    stale = sorted(set(API_CASES) - {path for path, ops in schema["paths"].items() if "get" in ops})
    assert not stale, f"budgets for GET operations that no longer exist: {stale}"


@pytest.fixture(autouse=True)
def _payments_for_builders(settings, tmp_path_factory):
    """Builders buy through the sandbox (referrals) and register the payments test item types."""
    from tests.payments.catalog import register_test_items

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    _log, unregister = register_test_items()
    yield
    unregister()


def _check(case: Case, *, page: bool) -> None:
    scenario = case.build()
    scenario.grow(2)
    small, body = statements(scenario, page=page)
    shown_small = scenario.shown(body)
    scenario.grow(6)
    large, body = statements(scenario, page=page)
    shown_large = scenario.shown(body)
    assert shown_small >= 2 and shown_large >= shown_small + 6, (
        f"{scenario.path}: the list did not grow ({shown_small} → {shown_large}); the case measures nothing"
    )
    assert large == small, (
        f"{scenario.path}: {small} statements for {shown_small} items, {large} for {shown_large}"
    )
    assert large <= case.budget, f"{scenario.path}: {large} statements, budget {case.budget}"


@pytest.mark.parametrize("path", sorted(API_CASES))
def test_list_api_statements_are_fixed(path):
    _check(API_CASES[path], page=False)


# ---- pages -------------------------------------------------------------------------------------------------


@dataclass
class PageCase:
    build: Callable[[], Scenario]
    path: str  # formatted with the scenario's ids
    budget: int
    shown: Callable[[str], int] | None = None  # default: the scenario's markers


def _masked_rows(body: str) -> int:
    return body.count("**")  # names of other members are masked on referral pages ("张**")


def group_buy_members() -> Scenario:
    from referrals import group_buys
    from referrals.models import GroupBuy, GroupBuyMember
    from tests.payments.catalog import TEST_ITEM
    from tests.referrals import factories as rf

    offer = rf.offer(item_type=TEST_ITEM, item_id="A", title="拼团", size=20)
    seat = group_buys.group_buy_open(user=_member(), offer=offer)
    group = seat.group
    paid = count(1)

    def grow(n):
        for _ in range(n):
            GroupBuyMember.objects.create(
                group=group,
                user=_member(),
                status="paid",
                paid_at=timezone.now(),
                reserved_until=timezone.now() + timedelta(hours=1),
            )
            GroupBuy.objects.filter(pk=group.pk).update(paid_count=next(paid))

    GroupBuy.objects.filter(pk=group.pk).update(
        status="forming", opened_at=timezone.now(), expires_at=timezone.now() + timedelta(hours=20)
    )
    return Scenario(f"/api/v1/referrals/group-buys/{group.pk}/", grow, _member(), ids={"group": group.pk})


def reports() -> Scenario:
    from django.contrib.auth.models import Permission

    from insights.models import OperationsReport

    operator = _member(is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    day = count(1)

    def grow(n):
        for _ in range(n):
            start = timezone.localdate() - timedelta(days=7 * next(day))
            OperationsReport.objects.create(
                kind="weekly",
                period_start=start,
                period_end=start + timedelta(days=6),
                headline=[mark("周报")],
            )

    return Scenario("/ops/reports/", grow, operator)


PAGE_CASES: dict[str, PageCase] = {
    "growth:my_coupons": PageCase(my_coupons, "/growth/coupons/", 9),
    "courses:catalog": PageCase(catalog_courses, "/courses/", 4),
    "courses:mine": PageCase(my_courses, "/courses/mine/", 9),
    "courses:my_tickets": PageCase(my_ticket_page, "/courses/mine/tickets/", 5),
    "courses:my_camps": PageCase(my_camp_page, "/courses/mine/camps/", 7),
    "courses:course": PageCase(course_lessons, "/courses/{course}/", 3),
    "courses:events": PageCase(events, "/courses/events/", 4),
    "courses:camps": PageCase(camps, "/courses/camps/", 5),
    "courses:review_queue": PageCase(review_queue, "/courses/camps/review/", 11),
    "courses:homework_review_queue": PageCase(homework_queue, "/courses/homework/review/", 8),
    "courses:term": PageCase(term_feed, "/courses/camps/terms/{term}/", 14),
    "courses:calendar": PageCase(
        term_calendar, "/courses/camps/terms/{term}/calendar/", 8, lambda b: b.count("done")
    ),
    "courses:leaderboard": PageCase(term_leaderboard, "/courses/camps/terms/{term}/leaderboard/", 8),
    "circles:list": PageCase(circles, "/circles/", 3),
    "circles:mine": PageCase(my_circles, "/circles/mine/", 6),
    "circles:detail": PageCase(circle_feed, "/circles/{circle}/", 7),
    "circles:leaderboard": PageCase(circle_leaderboard, "/circles/{circle}/leaderboard/", 10),
    "circles:manage": PageCase(
        circle_members, "/circles/{circle}/manage/", 18
    ),  # +1: is the manager a money operator (remove with refund)
    "circles:post": PageCase(post_comments, "/circles/posts/{post}/", 8),  # 8th: the pager's count
    "members:tiers": PageCase(
        tiers, "/membership/", 9
    ),  # tier benefits generated from what each tier includes (courses, circles, events, camps)
    "members:points": PageCase(points_history, "/account/points/", 6),
    "members:mall": PageCase(rewards, "/points/mall/", 4),
    "members:notifications": PageCase(notifications, "/account/notifications/", 5),
    "payments:my_orders": PageCase(my_orders, "/payments/orders/", 4),
    "payments:wallet": PageCase(wallet_earnings, "/payments/wallet/", 8),
    "referrals:center": PageCase(referrals_invited, "/referrals/", 19, _masked_rows),
    "referrals:invited": PageCase(referrals_invited, "/referrals/invited/", 4, _masked_rows),
    "referrals:commissions": PageCase(referrals_commissions, "/referrals/commissions/", 7, _masked_rows),
    "referrals:leaderboard": PageCase(referrals_leaderboard, "/referrals/leaderboard/", 4, _masked_rows),
    "referrals:group_buys": PageCase(group_buy_offers, "/referrals/group-buys/", 4),
    "referrals:group_buy_offer": PageCase(
        group_buy_open_groups, "/referrals/group-buys/offers/{offer}/", 4, _masked_rows
    ),
    "referrals:group_buy": PageCase(group_buy_members, "/referrals/group-buys/{group}/", 5, _masked_rows),
    "insights:reports": PageCase(reports, "/ops/reports/", 5, lambda body: body.count(" ~ ")),
}

# Every other page of the URL conf, and why it has no list to budget.
NOT_LIST_PAGES = {
    "healthz": "health check",
    "favicon": "the brand's site icon (one cached image)",
    "brand-css": "the brand's colours as CSS (one cached row)",
    "set_language": "redirect",
    "referral-share": "redirect that records a visit",
    "payments:checkout": "one item",
    "payments:order_detail": "one order",
    "payments:order_pay": "one order's payment",
    "payments:order_status": "one order (polled)",
    "payments:order_refund": "form",
    "payments:order_cancel": "form",
    "payments:order_qr": "image",
    "payments:sandbox_cashier": "development cashier",
    "payments:wechatpay_notify": "webhook",
    "payments:wallet_withdraw": "form",
    "payments:withdrawal_detail": "one withdrawal",
    "payments:withdrawal_cancel": "action",
    "payments:withdrawal_confirm": "action",
    "payments:transfer_notify": "webhook",
    "courses:lesson": "one lesson",
    "courses:media_master": "one asset's master playlist (a fixed query count: tests/courses/test_media.py)",
    "courses:media_rendition": "one rendition's playlist",
    "courses:media_key": "one asset's 16-byte key",
    "courses:event": "one event",
    "courses:event_register": "action",
    "courses:event_cancel": "action",
    "courses:event_checkin": "staff form for one ticket",
    "courses:ticket": "one ticket",
    "courses:ticket_qr": "image",
    "courses:review": "action",
    "courses:moderate": "action",
    "courses:term_join": "action",
    "courses:checkin": "form",
    "courses:poster": "image",
    "courses:certificate": "one certificate",
    "courses:certificate_png": "image",
    "courses:course_certificate": "one certificate",
    "courses:course_certificate_png": "image",
    "courses:quiz_submit": "form",
    "courses:homework_submit": "form",
    "courses:homework_review": "action",
    "courses:camp": "redirects to the featured term's page (budgeted as courses:term)",
    "circles:trial": "action",
    "circles:leave": "action",
    "circles:rules": "one text",
    "circles:compose": "form",
    "circles:ask": "form",
    "circles:like": "action",
    "circles:comment": "action",
    "circles:flags": "action",
    "circles:schedule": "form",
    "circles:tip": "form",
    "circles:answer": "form",
    "circles:comment_delete": "action",
    "referrals:agreement": "one text",
    "referrals:poster": "image",
    "referrals:staff_share": "the rep's monthly statements, at most 24 (tests/referrals cover the statement)",
    "referrals:group_buy_open": "action",
    "referrals:group_buy_join": "action",
    "referrals:compliance": "operators' export preview (tests/referrals/test_compliance_and_admin.py budgets it)",
    "referrals:compliance_csv": "streamed CSV",
    "insights:dashboard": "fixed set of aggregates (tests/insights budgets it)",
    "insights:export_orders": "streamed CSV, read in chunks",
    "insights:export_members": "streamed CSV, read in chunks",
    "insights:export_commissions": "streamed CSV, read in chunks",
    "insights:export_withdrawals": "streamed CSV, read in chunks",
    "insights:export_table": "streamed CSV, read in chunks",
    "insights:report": "one report",
    "members:home": "landing page",
    "members:tier_detail": "one tier",
    "members:account": "the member's own account",
    "members:onboarding": "fixed checklist",
    "members:onboarding_confirm": "action",
    "members:profile": "form",
    "members:mall_redeem": "action",
    "growth:redeem": "form",
    "growth:coupon_claim": "one coupon and a button",
    "growth:marketing_settings": "form",
    "members:notification_open": "redirect",
    "members:notifications_read_all": "action",
    "members:logout_everywhere": "action",
}


def page_names() -> set[str]:
    """Named URL patterns served as pages: everything but admin, allauth, the API and the schema."""

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace and pattern.namespace
                    else (pattern.namespace or namespace)
                )
                yield from walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield route, f"{namespace}:{pattern.name}" if namespace else pattern.name

    routes = walk(get_resolver().url_patterns, "", "")
    return {name for route, name in routes if not route.startswith(("admin/", "accounts/", "api/"))}


def test_every_page_is_classified():
    pages = page_names()
    assert len(pages) >= 60, "the URL conf lost its pages?"
    unclassified = sorted(pages - set(PAGE_CASES) - set(NOT_LIST_PAGES))
    assert not unclassified, (
        f"pages neither budgeted (PAGE_CASES) nor explained (NOT_LIST_PAGES): {unclassified}"
    )
    assert not set(PAGE_CASES) & set(NOT_LIST_PAGES)
    stale = sorted((set(PAGE_CASES) | set(NOT_LIST_PAGES)) - pages)
    assert not stale, f"classified pages that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(PAGE_CASES))
def test_list_page_statements_are_fixed(name):
    case = PAGE_CASES[name]

    def build():
        scenario = case.build()
        scenario.path = case.path.format(**scenario.ids)
        if case.shown is not None:
            scenario.shown = case.shown
        return scenario

    _check(Case(build, case.budget), page=True)
