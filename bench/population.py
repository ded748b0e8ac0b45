"""The member population the API benchmark runs against: members, memberships, orders, a catalog.

At scale 1: 100,000 members (80% active VIP, 5% KA, 15% lapsed — the buyers of the order benchmark),
each with a mini-program identity, half with points; 1,000,000 orders over the past year (about ten per
member; 90% paid, 6% closed unpaid, 4% refunded) with their payment attempts and one audit event
each; a catalog of 200 published courses of 30 lessons (a third in VIP, a third KA-only, a third sold
singly). Everything is bulk SQL through `bench.common.insert_select` (the columns come from the
models), keyed by prefixes, so a second run only tops up what is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.common import analyze, insert_select

USER_PREFIX = "bench-api-"
ORDER_PREFIX = "BA"
COURSES = 200
LESSONS_PER_COURSE = 30
MINIPROGRAM_APPID = "wx_bench"  # bench.loadtest.production_env sets WECHAT_MINIPROGRAM_APPID to it


@dataclass
class Population:
    members: int
    orders: int
    courses: int
    user_ids: list[int]
    seconds: float
    inserted: dict[str, int]

    def active_vip_ids(self, limit: int) -> list[int]:
        """Members whose VIP membership is active (g % 20 < 16, g = 1-based position)."""
        return [uid for g, uid in enumerate(self.user_ids, start=1) if g % 20 < 16][:limit]

    def lapsed_ids(self, limit: int) -> list[int]:
        """Members whose membership ended (g % 20 >= 17): buying VIP is a fresh start for them."""
        return [uid for g, uid in enumerate(self.user_ids, start=1) if g % 20 >= 17][:limit]


def tiers():
    from members.models import MembershipTier

    vip, _ = MembershipTier.objects.get_or_create(
        code="VIP",
        defaults={
            "name": "VIP会员",
            "price_fen": 360_000,
            "duration_days": 365,
            "rank": 1,
            "member_no_prefix": "VIP",
            "single_purchase_discount_bp": 2000,
            "benefits": "全部VIP课程\n社群服务\n一次线下课",
        },
    )
    ka, _ = MembershipTier.objects.get_or_create(
        code="KA",
        defaults={
            "name": "KA会员",
            "price_fen": 12_000_000,
            "duration_days": 365,
            "rank": 2,
            "member_no_prefix": "KA",
            "single_purchase_discount_bp": 5000,
            "benefits": "VIP全部权益\n高阶课程",
        },
    )
    return vip, ka


def ensure(*, scale: float = 1.0, log=print) -> Population:
    from django.db import connection

    from core.models import WeChatIdentity
    from courses.models import Course, Lesson
    from members.models import Membership, PointsAccount, User
    from payments.models import Order, OrderEvent, Payment

    started = time.perf_counter()
    members = max(1000, int(100_000 * scale))
    orders = max(10_000, int(1_000_000 * scale))
    inserted: dict[str, int] = {}
    vip, ka = tiers()

    # -- members: users, memberships, mini-program identities, points ---------------------------------------
    have = User.objects.filter(username__startswith=USER_PREFIX).count()
    if have < members:
        log(f"population: {members - have:,} members")
        inserted["users"] = insert_select(
            User,
            {
                "password": "'!'",
                "username": f"'{USER_PREFIX}' || lpad(g::text, 7, '0')",
                "nickname": "'学员' || g",
                "referral_code": "'b' || lpad(g::text, 7, '0')",  # generated codes are upper-case only
                "member_no": "CASE WHEN g %% 20 < 16 THEN 'BVIP-' || lpad(g::text, 7, '0') "
                "WHEN g %% 20 = 16 THEN 'BKA-' || lpad(g::text, 7, '0') END",
                "date_joined": "now() - ((g %% 700) || ' days')::interval",
            },
            "generate_series(%s, %s) AS g",
            [have + 1, members],
        )
    user_ids = list(
        User.objects.filter(username__startswith=USER_PREFIX)
        .order_by("username")
        .values_list("id", flat=True)
    )[:members]
    numbered = "unnest(%s::bigint[]) WITH ORDINALITY AS u(id, g)"
    missing = "NOT EXISTS (SELECT 1 FROM {table} x WHERE x.user_id = u.id)"
    inserted["memberships"] = insert_select(
        Membership,
        {
            "user": "u.id",
            "tier": f"CASE WHEN g %% 20 = 16 THEN {ka.pk} ELSE {vip.pk} END",
            # active: started within the last 300 days; lapsed: ended 1–200 days ago
            "starts_at": "CASE WHEN g %% 20 < 17 THEN now() - ((g %% 300) || ' days')::interval "
            "ELSE now() - ((366 + g %% 200) || ' days')::interval END",
            "ends_at": "CASE WHEN g %% 20 < 17 THEN now() + ((365 - g %% 300) || ' days')::interval "
            "ELSE now() - ((1 + g %% 200) || ' days')::interval END",
        },
        f"{numbered} WHERE {missing.format(table=Membership._meta.db_table)}",
        [user_ids],
    )
    inserted["identities"] = insert_select(
        WeChatIdentity,
        {
            "user": "u.id",
            "kind": "'miniprogram'",
            "appid": f"'{MINIPROGRAM_APPID}'",
            "openid": "'obench' || lpad(g::text, 22, '0')",
        },
        f"{numbered} WHERE {missing.format(table=WeChatIdentity._meta.db_table)}",
        [user_ids],
    )
    inserted["points accounts"] = insert_select(
        PointsAccount,
        {"user": "u.id", "balance": "g %% 500", "earned_total": "g %% 500 + 100", "spent_total": "100"},
        f"{numbered} WHERE g %% 2 = 0 AND {missing.format(table=PointsAccount._meta.db_table)}",
        [user_ids],
    )

    # -- the catalog ------------------------------------------------------------------------------------------
    teacher, _ = User.objects.get_or_create(username="bench-teacher-api", defaults={"nickname": "压测讲师"})
    have_courses = Course.objects.filter(title__startswith="压测课程").count()
    if have_courses < COURSES:
        new = Course.objects.bulk_create(
            [
                Course(
                    title=f"压测课程 {i:03d}",
                    summary="私域运营与社群增长",
                    description="课程介绍 " * 40,
                    teacher=teacher,
                    price_fen=0 if i % 3 == 0 else 19_900 + 100 * i,
                    sort_order=i,
                )
                for i in range(have_courses, COURSES)
            ]
        )
        Course.included_in_tiers.through.objects.bulk_create(
            [
                Course.included_in_tiers.through(course_id=c.pk, membershiptier_id=tier.pk)
                for i, c in enumerate(new, start=have_courses)
                for tier in ((vip, ka) if i % 3 == 0 else (ka,) if i % 3 == 1 else ())
            ]
        )
        Lesson.objects.bulk_create(
            [
                Lesson(
                    course=c,
                    title=f"第{p + 1}课",
                    position=p,
                    kind="video",
                    media_url=f"https://media.example.com/{c.pk}/{p}.mp4",
                    duration_seconds=600 + p,
                    is_preview=p < 2,
                )
                for c in new
                for p in range(LESSONS_PER_COURSE)
            ],
            batch_size=2000,
        )
        inserted["courses"] = len(new)
    course_ids = list(
        Course.objects.filter(title__startswith="压测课程")
        .order_by("sort_order")
        .values_list("id", flat=True)
    )

    # -- a year of orders, their payment attempts and audit events -------------------------------------------
    have_orders = Order.objects.filter(order_no__startswith=ORDER_PREFIX).count()
    if have_orders < orders:
        log(f"population: {orders - have_orders:,} orders")
        step = 250_000  # several statements: each one's WAL and sort memory stay modest
        for first in range(have_orders + 1, orders + 1, step):
            last = min(orders, first + step - 1)
            source = (
                "(SELECT g, p.ids[1 + (g %% array_length(p.ids, 1))] AS uid, "
                "p.courses[1 + (g %% array_length(p.courses, 1))] AS cid, "
                "now() - ((g * 31 %% 525600) || ' minutes')::interval AS t, g %% 100 AS s "
                "FROM generate_series(%s, %s) AS g, (SELECT %s::bigint[] AS ids, %s::bigint[] AS courses) p) o"
            )
            kind = "CASE WHEN g %% 10 < 4 THEN 'membership' WHEN g %% 10 < 8 THEN 'course' ELSE 'camp' END"
            price = "CASE WHEN g %% 10 < 4 THEN 360000 WHEN g %% 10 < 8 THEN 19900 ELSE 99900 END"
            insert_select(
                Order,
                {
                    "order_no": f"'{ORDER_PREFIX}' || lpad(g::text, 12, '0')",
                    "user": "uid",
                    "item_type": kind,
                    "item_id": "CASE WHEN g %% 10 < 4 THEN 'VIP' WHEN g %% 10 < 8 THEN cid::text ELSE '1' END",
                    "title": "CASE WHEN g %% 10 < 4 THEN '开通VIP会员（365天）' WHEN g %% 10 < 8 THEN '压测课程' "
                    "ELSE '21天训练营' END",
                    "list_price_fen": price,
                    "amount_fen": price,
                    "refunded_fen": f"CASE WHEN s >= 96 THEN {price} ELSE 0 END",
                    "status": "CASE WHEN s < 90 THEN 'paid' WHEN s < 96 THEN 'closed' ELSE 'refunded' END",
                    "channel": "'wechat_miniprogram'",
                    "platform": "'android'",
                    "lines": "'[]'::jsonb",
                    "context": "'{}'::jsonb",
                    "paid_at": "CASE WHEN s < 90 OR s >= 96 THEN t + interval '1 minute' END",
                    "closed_at": "CASE WHEN s >= 90 AND s < 96 THEN t + interval '30 minutes' END",
                    "expires_at": "t + interval '30 minutes'",
                    "created_at": "t",
                    "updated_at": "t",
                },
                source,
                [first, last, user_ids, course_ids],
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT min(id), max(id) FROM {Order._meta.db_table} WHERE order_no >= %s AND order_no <= %s",
                    [f"{ORDER_PREFIX}{first:012d}", f"{ORDER_PREFIX}{last:012d}"],
                )
                low, high = cursor.fetchone()
            rows = f"{Order._meta.db_table} o WHERE o.id BETWEEN %s AND %s AND o.order_no LIKE '{ORDER_PREFIX}%%'"
            insert_select(
                Payment,
                {
                    "order": "o.id",
                    "channel": "o.channel",
                    "out_trade_no": "o.order_no || 'P'",
                    "transaction_id": "CASE WHEN o.paid_at IS NOT NULL THEN '4200' || o.order_no END",
                    "amount_fen": "o.amount_fen",
                    "status": "CASE WHEN o.paid_at IS NOT NULL THEN 'succeeded' ELSE 'closed' END",
                    "payer_openid": "'obench'",
                    "paid_at": "o.paid_at",
                    "created_at": "o.created_at",
                    "updated_at": "o.updated_at",
                },
                rows,
                [low, high],
            )
            insert_select(
                OrderEvent,
                {
                    "order": "o.id",
                    "from_status": "'pending'",
                    "to_status": "o.status",
                    "reason": "CASE WHEN o.paid_at IS NOT NULL THEN 'paid' ELSE 'expired' END",
                    "created_at": "coalesce(o.paid_at, o.closed_at)",
                },
                rows,
                [low, high],
            )
        inserted["orders"] = orders - have_orders
    if inserted.get("orders") or inserted.get("users"):
        analyze(User, Membership, WeChatIdentity, PointsAccount, Order, Payment, OrderEvent, Course, Lesson)
    return Population(
        members=members,
        orders=orders,
        courses=len(course_ids),
        user_ids=user_ids,
        seconds=time.perf_counter() - started,
        inserted={k: v for k, v in inserted.items() if v},
    )
