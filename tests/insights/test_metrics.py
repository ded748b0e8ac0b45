"""Each dashboard metric against a small hand-computed dataset (exact values).

Periods: P = 2025-03-11 … 03-20 and its previous period Q = 03-01 … 03-10 (Asia/Shanghai), unless a
metric depends on "today" (pipeline, camps running now), which uses dates relative to today.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from insights.metrics.funnel import funnel
from insights.metrics.learning import learning
from insights.metrics.referrals import referrals
from insights.metrics.retention import circle_churn, renewal_by_tier, repurchase, retention
from insights.metrics.revenue import revenue
from insights.models import LinkVisitDay
from insights.periods import Period
from members.models import MembershipGrant
from payments.models import Order, Refund, Withdrawal
from payments.wallet import earnings, settlement
from referrals.models import Commission
from tests.insights import builders as b

pytestmark = pytest.mark.django_db

P = Period(date(2025, 3, 11), date(2025, 3, 20))
Q = P.previous()
K = MembershipGrant.Kind


def kpis(items):
    return {k.key: (k.value, k.previous) for k in items}


def tables(items):
    return {t.key: t for t in items}


def test_period_previous_is_the_same_length_right_before():
    assert Q == Period(date(2025, 3, 1), date(2025, 3, 10))
    assert P.start_at == b.at(2025, 3, 11, 0)
    assert P.end_at == b.at(2025, 3, 21, 0)


def test_revenue_gmv_refunds_net_by_item_type_and_channel():
    promoter, u1, u2, u3, u4, u5 = (b.user() for _ in range(6))
    b.order(
        user=u1, amount_fen=360_000, paid_at=b.at(2025, 3, 12, 10), item_type="membership", referrer=promoter
    )
    b.order(user=u2, amount_fen=19_900, paid_at=b.at(2025, 3, 15), item_type="course", channel="wechat_jsapi")
    # 23:30 on the last day is inside P; 00:10 the next day is not (Asia/Shanghai day boundaries).
    b.order(user=u2, amount_fen=19_900, paid_at=b.at(2025, 3, 20, 23, 30), item_type="camp")
    b.order(user=u3, amount_fen=19_900, paid_at=b.at(2025, 3, 21, 0, 10), item_type="course")
    refunded = b.order(
        user=u4, amount_fen=9_900, paid_at=b.at(2025, 3, 5), item_type="course", referrer=promoter
    )
    b.refund(order=refunded, amount_fen=9_900, completed_at=b.at(2025, 3, 12, 9))
    b.order(user=u5, amount_fen=0, paid_at=b.at(2025, 3, 13), item_type="membership_days", channel="points")
    b.order(user=u5, amount_fen=5_000, paid_at=None)  # never paid
    # A payment that arrived after the order closed is refunded automatically: not a refund of GMV.
    closed = b.order(user=u5, amount_fen=5_000, paid_at=b.at(2025, 3, 14), status=Order.Status.CLOSED)
    Order.objects.filter(pk=closed.pk).update(paid_at=None, amount_fen=5_000)
    b.refund(order=closed, amount_fen=5_000, completed_at=b.at(2025, 3, 14, 13), kind=Refund.Kind.AUTO)

    k, t, facts = revenue(P, Q)
    values = kpis(k)
    assert values["gmv"] == (399_800, 9_900)
    assert values["refunds"] == (9_900, 0)
    assert values["net"] == (389_900, 9_900)
    assert values["orders"] == (3, 1)
    assert values["customers"] == (2, 1)
    assert (facts["referral_gmv_p"], facts["referral_gmv_q"]) == (360_000, 9_900)

    by_type = {r["key"]: r for r in tables(t)["revenue_by_item_type"].rows}
    assert by_type["membership"]["gmv"] == 360_000
    assert by_type["course"] == by_type["course"] | {
        "orders": 1,
        "gmv": 19_900,
        "refunds": 9_900,
        "net": 10_000,
        "net_prev": 9_900,
    }
    assert by_type["camp"]["net"] == 19_900
    assert "membership_days" not in by_type
    assert by_type["membership"]["share"] == pytest.approx(360_000 / 399_800)

    by_channel = {r["key"]: r for r in tables(t)["revenue_by_channel"].rows}
    assert by_channel["wechat_miniprogram"]["gmv"] == 379_900
    assert by_channel["wechat_miniprogram"]["refunds"] == 9_900
    assert by_channel["wechat_jsapi"]["gmv"] == 19_900

    over_time = {r["bucket"]: r for r in tables(t)["revenue_over_time"].rows}
    assert len(over_time) == 10
    assert over_time["03-12"] == {
        "bucket": "03-12",
        "orders": 1,
        "gmv": 360_000,
        "refunds": 9_900,
        "net": 350_100,
    }
    assert over_time["03-20"]["gmv"] == 19_900
    assert sum(r["gmv"] for r in over_time.values()) == 399_800


def test_membership_movements_new_returning_renewal_upgrade():
    vip, ka = b.tier("VIP", 1), b.tier("KA", 2, 12_000_000)
    new, back, renewer, upgrader, refunded, gifted, earlier = (b.user() for _ in range(7))
    b.grant(
        user=new,
        tier=vip,
        kind=K.START,
        created_at=b.at(2025, 3, 12),
        order=b.order(user=new, amount_fen=360_000, paid_at=b.at(2025, 3, 12), item_type="membership"),
    )
    b.grant(user=back, tier=vip, kind=K.START, created_at=b.at(2023, 1, 1))
    b.grant(user=back, tier=vip, kind=K.START, created_at=b.at(2025, 3, 14), ends_before=b.at(2024, 1, 1))
    b.grant(
        user=renewer,
        tier=vip,
        kind=K.RENEW,
        created_at=b.at(2025, 3, 16),
        ends_before=b.at(2025, 4, 1),
        order=b.order(user=renewer, amount_fen=324_000, paid_at=b.at(2025, 3, 16), item_type="membership"),
    )
    b.grant(
        user=upgrader,
        tier=ka,
        kind=K.UPGRADE,
        created_at=b.at(2025, 3, 17),
        tier_before=vip,
        ends_before=b.at(2025, 9, 1),
    )
    b.grant(user=refunded, tier=vip, kind=K.START, created_at=b.at(2025, 3, 18), revoked=True)
    b.grant(
        user=gifted,
        tier=vip,
        kind=K.START,
        created_at=b.at(2025, 3, 18),
        source=MembershipGrant.Source.POINTS,
    )
    b.grant(user=earlier, tier=vip, kind=K.RENEW, created_at=b.at(2025, 3, 3), ends_before=b.at(2025, 3, 30))

    k, t, _facts = revenue(P, Q)
    values = kpis(k)
    assert values["new_members"] == (1, 0)
    assert values["renewals"] == (1, 1)
    assert values["upgrades"] == (1, 0)
    rows = {r["name"]: r for r in tables(t)["membership_movements"].rows}
    assert rows["新开通 VIP"] == {"name": "新开通 VIP", "members": 1, "members_prev": 0, "amount": 360_000}
    assert rows["回流开通 VIP"]["members"] == 1
    assert rows["续费 VIP"] == {"name": "续费 VIP", "members": 1, "members_prev": 1, "amount": 324_000}
    assert rows["升级 VIP→KA"]["members"] == 1


def test_funnel_by_channel_and_link_with_snapshot_visits():
    a, bb = b.user(nickname="推广A"), b.user(nickname="推广B")
    ua = b.user(joined=b.at(2025, 3, 12))
    b.bind(user=ua, referrer=a, channel="poster", bound_at=b.at(2025, 3, 12))
    b.order(user=ua, amount_fen=19_900, paid_at=b.at(2025, 3, 13))
    ub = b.user(joined=b.at(2025, 3, 14))
    b.bind(user=ub, referrer=a, channel="poster", bound_at=b.at(2025, 3, 14))
    uc = b.user(joined=b.at(2025, 3, 15))
    b.order(user=uc, amount_fen=19_900, paid_at=b.at(2025, 3, 25))  # after P: not a conversion of P
    ud = b.user(joined=b.at(2025, 3, 16))
    b.order(
        user=ud,
        amount_fen=19_900,
        paid_at=b.at(2025, 3, 17),
        status=Order.Status.REFUNDED,
        refunded_fen=19_900,
    )
    ue = b.user(joined=b.at(2025, 3, 5))
    b.bind(user=ue, referrer=bb, channel="link", bound_at=b.at(2025, 3, 5))
    b.order(user=ue, amount_fen=9_900, paid_at=b.at(2025, 3, 8))
    b.user(joined=b.at(2025, 3, 12), staff=True)
    uf = b.user(joined=b.at(2025, 3, 18))
    b.bind(user=uf, referrer=a, channel="link", bound_at=b.at(2025, 3, 18), ended=b.at(2025, 3, 19))
    b.bind(user=uf, referrer=bb, channel="chat", bound_at=b.at(2025, 3, 19))
    for who, channel, day, visits in [
        (a, "poster", date(2025, 3, 11), 5),
        (a, "poster", date(2025, 3, 12), 3),
        (a, "poster", date(2025, 3, 2), 4),
        (bb, "link", date(2025, 3, 5), 2),
        (a, "link", date(2025, 3, 18), 2),
    ]:
        LinkVisitDay.objects.create(referrer=who, channel=channel, day=day, visits=visits)

    k, t = funnel(P, Q)
    values = kpis(k)
    assert values["signups"] == (5, 1)
    assert values["pay_rate"] == (pytest.approx(1 / 5), pytest.approx(1.0))
    assert values["link_visits"] == (10, 6)
    rows = {r["key"]: r for r in tables(t)["funnel_by_channel"].rows}
    assert rows["poster"] | {} == rows["poster"] and (
        rows["poster"]["visits"],
        rows["poster"]["signups"],
        rows["poster"]["paid"],
        rows["poster"]["pay_rate"],
        rows["poster"]["signup_rate"],
    ) == (8, 2, 1, 0.5, 0.25)
    assert (rows["link"]["visits"], rows["link"]["signups"], rows["link"]["paid"]) == (2, 1, 0)
    assert rows["link"]["pay_rate_prev"] == 1.0
    assert (rows["direct"]["visits"], rows["direct"]["signups"], rows["direct"]["paid"]) == (None, 2, 0)
    links = {(r["promoter"], r["channel"]): r for r in tables(t)["funnel_by_link"].rows}
    assert links[("推广A", "海报")] | {} == links[("推广A", "海报")]
    assert (
        links[("推广A", "海报")]["visits"],
        links[("推广A", "海报")]["signups"],
        links[("推广A", "海报")]["paid"],
    ) == (
        8,
        2,
        1,
    )
    assert (links[("推广A", "分享链接")]["signups"], links[("推广A", "分享链接")]["visits"]) == (1, 2)
    assert len(links) == 2


def test_repurchase_rate_counts_valid_purchases_up_to_the_period_end():
    x1, x2, x3, x4 = (b.user() for _ in range(4))
    b.order(user=x1, amount_fen=100, paid_at=b.at(2025, 2, 1))
    b.order(user=x1, amount_fen=100, paid_at=b.at(2025, 3, 12))
    b.order(user=x2, amount_fen=100, paid_at=b.at(2025, 3, 13))
    b.order(user=x2, amount_fen=100, paid_at=b.at(2025, 3, 25))  # after P
    b.order(user=x3, amount_fen=100, paid_at=b.at(2025, 3, 14))
    b.order(user=x3, amount_fen=100, paid_at=b.at(2025, 3, 15))
    b.order(user=x4, amount_fen=100, paid_at=b.at(2025, 3, 16))
    b.order(user=x4, amount_fen=100, paid_at=b.at(2025, 3, 1), status=Order.Status.REFUNDED, refunded_fen=100)
    assert repurchase(P) == (4, 2)
    assert repurchase(Q) == (0, 0)


def test_renewal_rate_by_tier():
    vip, ka = b.tier("VIP", 1), b.tier("KA", 2, 12_000_000)
    m1, m2, m3, m4, m5, m6, m7, m8 = (b.user() for _ in range(8))
    b.membership(user=m1, tier=vip, starts_at=b.at(2024, 3, 15), ends_at=b.at(2026, 3, 15))
    b.grant(user=m1, tier=vip, kind=K.RENEW, created_at=b.at(2025, 3, 1), ends_before=b.at(2025, 3, 15))
    b.membership(user=m2, tier=vip, starts_at=b.at(2024, 3, 14), ends_at=b.at(2025, 3, 14))
    b.membership(user=m3, tier=vip, starts_at=b.at(2025, 4, 1), ends_at=b.at(2026, 4, 1))
    b.grant(user=m3, tier=vip, kind=K.START, created_at=b.at(2025, 4, 1), ends_before=b.at(2025, 3, 12))
    b.membership(user=m4, tier=vip, starts_at=b.at(2025, 5, 1), ends_at=b.at(2026, 5, 1))
    b.grant(user=m4, tier=vip, kind=K.START, created_at=b.at(2025, 5, 1), ends_before=b.at(2025, 3, 13))
    b.membership(user=m5, tier=ka, starts_at=b.at(2025, 3, 10), ends_at=b.at(2026, 3, 10))
    b.grant(
        user=m5,
        tier=ka,
        kind=K.UPGRADE,
        created_at=b.at(2025, 3, 10),
        ends_before=b.at(2025, 3, 18),
        tier_before=vip,
    )
    b.membership(user=m6, tier=vip, starts_at=b.at(2024, 3, 16), ends_at=b.at(2025, 4, 15))
    b.grant(
        user=m6,
        tier=vip,
        kind=K.RENEW,
        created_at=b.at(2025, 3, 5),
        ends_before=b.at(2025, 3, 16),
        source=MembershipGrant.Source.POINTS,
        days=30,
    )
    b.membership(user=m7, tier=vip, starts_at=b.at(2024, 3, 17), ends_at=b.at(2025, 3, 17))
    b.grant(
        user=m7,
        tier=vip,
        kind=K.RENEW,
        created_at=b.at(2025, 3, 1),
        ends_before=b.at(2025, 3, 17),
        revoked=True,
    )
    b.membership(user=m8, tier=ka, starts_at=b.at(2024, 3, 19), ends_at=b.at(2025, 3, 19))

    by_tier = renewal_by_tier(P)
    assert by_tier == {
        "VIP": {"due": 6, "renewed": 3, "upgraded": 1},
        "KA": {"due": 1, "renewed": 0, "upgraded": 0},
    }
    k, t = retention(P, Q)
    assert kpis(k)["renewal_rate"][0] == pytest.approx(3 / 7)
    row = {r["tier"]: r for r in tables(t)["renewal_by_tier"].rows}["VIP"]
    assert row["renewal_rate"] == 0.5


def test_circle_churn_counts_paying_members_lost_in_the_period():
    c = b.circle(name="增长圈")
    E = "joined", "renewed", "trial", "left", "removed", "expired"
    joined, renewed, trial, left, removed, expired = E
    feb = b.at(2025, 2, 1)
    b.circle_member(circle=c, user=b.user(), events=[(joined, feb, {}), (left, b.at(2025, 3, 15), {})])
    b.circle_member(circle=c, user=b.user(), events=[(joined, feb, {})])
    b.circle_member(
        circle=c,
        user=b.user(),
        events=[
            (joined, feb, {}),
            (expired, b.at(2025, 2, 20), {"was": "member"}),
            (renewed, b.at(2025, 3, 12), {}),
        ],
    )
    b.circle_member(
        circle=c,
        user=b.user(),
        events=[(trial, b.at(2025, 3, 11), {}), (expired, b.at(2025, 3, 14), {"was": "trial"})],
    )
    b.circle_member(
        circle=c, user=b.user(), events=[(joined, b.at(2025, 3, 12), {}), (removed, b.at(2025, 3, 18), {})]
    )
    b.circle_member(
        circle=c, user=b.user(), events=[(joined, feb, {}), (expired, b.at(2025, 3, 19), {"was": "member"})]
    )

    (row,) = circle_churn(P)
    assert (row["at_start"], row["base"], row["lost"]) == (3, 5, 3)
    k, t = retention(P, Q)
    assert kpis(k)["churn_rate"][0] == pytest.approx(0.6)
    (q_row,) = circle_churn(Q)
    # On 03-01 c1, c2 and c6 were in (c3 had expired on 02-20); nobody left during Q.
    assert (q_row["at_start"], q_row["base"], q_row["lost"]) == (3, 3, 0)


def test_renewal_pipeline_buckets_from_today():
    vip = b.tier("VIP", 1)
    now = timezone.now()
    for days in (3, 10, 25, 40, -2):
        b.membership(
            user=b.user(), tier=vip, starts_at=now - timedelta(days=300), ends_at=now + timedelta(days=days)
        )
    c = b.circle(name="圈A")
    b.circle_member(circle=c, user=b.user(), events=[], expires_at=now + timedelta(days=5))
    b.circle_member(circle=c, user=b.user(), events=[], expires_at=now + timedelta(days=5), via_tier=True)
    k, t = retention(P, Q)
    rows = {r["name"]: r for r in tables(t)["renewal_pipeline"].rows}
    assert {k2: rows["会员 VIP"][k2] for k2 in ("in_7", "in_14", "in_30")} == {
        "in_7": 1,
        "in_14": 2,
        "in_30": 3,
    }
    assert rows["圈子 圈A"]["in_7"] == 1
    assert kpis(k)["expiring_30d"] == (3, None)


def test_course_completion():
    course, lessons = b.course(published=3, unpublished=1)
    l1, l2, l3, l4 = (b.user() for _ in range(4))
    for i, lesson in enumerate(lessons[:3]):
        b.progress(user=l1, lesson=lesson, completed_at=b.at(2025, 3, 13 + i))
        b.progress(user=l3, lesson=lesson, completed_at=b.at(2025, 3, 3 + i))
    b.progress(user=l2, lesson=lessons[0], completed_at=b.at(2025, 3, 12))
    b.progress(user=l2, lesson=lessons[1], completed_at=b.at(2025, 3, 12))
    b.progress(user=l2, lesson=lessons[2], completed_at=None)
    b.progress(user=l4, lesson=lessons[3], completed_at=b.at(2025, 3, 12))  # unpublished: does not count
    b.progress(user=l4, lesson=lessons[0], completed_at=b.at(2025, 3, 12))
    k, t = learning(P, Q)
    (row,) = tables(t)["course_completion"].rows
    assert row == {
        "course": "课",
        "lessons": 3,
        "learners": 4,
        "completed": 2,
        "completion_rate": 0.5,
        "completed_p": 1,
        "completed_q": 1,
    }
    assert kpis(k)["completions"] == (1, 1)


def test_checkin_rate_per_day_of_term_and_review_time():
    today = timezone.localdate()
    camp, tasks = b.camp(days=5)
    term = b.term(camp=camp, start=today - timedelta(days=3))  # day 4 today: days 1–4 have arrived
    s1, s2 = b.seat(term=term, user=b.user()), b.seat(term=term, user=b.user())
    s3 = b.seat(term=term, user=b.user(), active=False)
    hour = timedelta(hours=1)
    b.checkin(seat=s1, task=tasks[0], reviewed_after=hour)
    b.checkin(seat=s1, task=tasks[1], reviewed_after=3 * hour)
    b.checkin(seat=s1, task=tasks[2], reviewed_after=10 * hour)
    b.checkin(seat=s1, task=tasks[3])  # waiting for review
    b.checkin(seat=s2, task=tasks[0])
    b.checkin(seat=s2, task=tasks[1], status="review")
    b.checkin(seat=s2, task=tasks[2], status="rejected")
    b.checkin(seat=s3, task=tasks[0])
    old_camp, old_tasks = b.camp(days=2, title="旧营")
    old = b.term(camp=old_camp, start=today - timedelta(days=60))
    b.checkin(
        seat=b.seat(term=old, user=b.user()),
        task=old_tasks[0],
        created_at=b.days_ago(60),
        reviewed_after=2 * hour,
    )
    b.checkin(
        seat=b.seat(term=old, user=b.user()),
        task=old_tasks[0],
        created_at=b.days_ago(59),
        reviewed_after=6 * hour,
    )

    p = Period(today - timedelta(days=6), today)
    q = Period(today - timedelta(days=69), today - timedelta(days=50))  # a period where only the old term ran
    k, t = learning(p, q)
    days = {r["day"]: r for r in tables(t)["checkin_by_day"].rows}
    assert [(r["possible"], r["done"]) for r in days.values()] == [(2, 2), (2, 2), (2, 1), (2, 1)]
    assert [r["checkin_rate"] for r in days.values()] == [1.0, 1.0, 0.5, 0.5]
    values = kpis(k)
    assert values["checkin_rate"][0] == pytest.approx(6 / 8)
    assert values["review_median"][0] == pytest.approx(3 * 3600, abs=1)
    # The old term's check-ins were reviewed ~60 days ago: in q, median of 2 h and 6 h.
    assert values["review_median"][1] == pytest.approx(4 * 3600, abs=1)
    camps = {r["camp"]: r for r in tables(t)["review_time"].rows}
    assert camps["营"]["reviewed"] == 3 and camps["营"]["waiting"] == 3  # s1 day 4, s2 day 1, s3 day 1
    terms = tables(t)["checkin_by_term"].rows
    assert [(r["seats"], r["days_run"]) for r in terms] == [(2, 4)]


def test_referral_share_top_promoters_watchlist_and_ledger():
    today = timezone.localdate()
    p = Period(today - timedelta(days=9), today)
    q = p.previous()
    a, bb = b.user(nickname="推广A"), b.user(nickname="推广B")
    buyers = [b.user() for _ in range(4)]
    b.order(user=buyers[0], amount_fen=100_000, paid_at=b.days_ago(2), referrer=a)
    b.order(
        user=buyers[0],
        amount_fen=50_000,
        paid_at=b.days_ago(3),
        referrer=a,
        status=Order.Status.REFUNDED,
        refunded_fen=50_000,
    )
    b.order(user=buyers[1], amount_fen=20_000, paid_at=b.days_ago(4), referrer=a)
    b.order(user=buyers[2], amount_fen=10_000, paid_at=b.days_ago(4), referrer=bb)
    b.order(user=buyers[3], amount_fen=500_000, paid_at=b.days_ago(5))
    first = Order.objects.filter(referrer=a, amount_fen=100_000).get()
    Commission.objects.create(
        order=first,
        level=1,
        beneficiary=a,
        buyer=buyers[0],
        item_type="course",
        base_fen=100_000,
        rate_bp=1000,
        amount_fen=10_000,
        reversed_fen=5_000,
        reward_kind="cash",
        status="partially_reversed",
        hold_until=timezone.now(),
        idempotency_key="c1",
    )
    second = Order.objects.filter(referrer=a, amount_fen=20_000).get()
    Commission.objects.create(
        order=second,
        level=1,
        beneficiary=a,
        buyer=buyers[1],
        item_type="course",
        base_fen=20_000,
        rate_bp=1000,
        amount_fen=2_000,
        reward_kind="cash",
        status="skipped",
        skip_reason="agreement",
        hold_until=timezone.now(),
        idempotency_key="c2",
    )
    earnings.earning_accrue(
        user=a,
        amount_fen=10_000,
        source="commission",
        idempotency_key="e1",
        hold_until=timezone.now() + timedelta(days=7),
    )
    earnings.earning_accrue(
        user=bb,
        amount_fen=3_000,
        source="commission",
        idempotency_key="e2",
        hold_until=timezone.now() - timedelta(minutes=1),
    )
    earnings.earning_accrue(
        user=bb,
        amount_fen=700,
        source="tip",
        idempotency_key="e3",
        hold_until=timezone.now() + timedelta(days=7),
    )
    settlement.settle_due()
    Withdrawal.objects.create(
        user=bb, amount_fen=1_000, method="bank", status="paid", out_bill_no="W1", paid_at=timezone.now()
    )

    _k, _t, facts = revenue(p, q)
    k, t = referrals(p, q, facts)
    values = kpis(k)
    assert values["referral_share"][0] == pytest.approx(180_000 / 680_000)
    assert values["commission_held"] == (10_000, None)
    assert values["commission_available"] == (3_000, None)
    assert values["withdrawn"] == (1_000, 0)
    top = tables(t)["top_promoters"].rows
    assert [r["promoter"] for r in top] == ["推广A", "推广B"]
    assert top[0] == {
        "promoter": "推广A",
        "orders": 3,
        "buyers": 2,
        "gmv": 170_000,
        "refunded": 50_000,
        "refund_rate": pytest.approx(50_000 / 170_000),
        "commission": 5_000,
    }
    (watch,) = tables(t)["promoter_refund_watch"].rows
    assert watch["promoter"] == "推广A" and watch["flag"] == "异常"  # 29% ≥ 2 × 7.4% site rate
    status = {r["status"]: r["amount"] for r in tables(t)["commission_status"].rows}
    assert status["佣金冻结中（未过退款期）"] == 10_000
    assert status["佣金已结算"] == 3_000
    assert status["全部收益冻结中"] == 10_700
    assert status["可提现"] == 3_000
    assert status["已提现到账（累计）"] == 1_000
    flows = {r["flow"]: r for r in tables(t)["commission_flows"].rows}
    assert flows["计提佣金"]["amount"] == 13_000
    assert flows["佣金结算到可提现"]["amount"] == 3_000


def test_raw_aggregates_come_back_as_plain_json_numbers():
    course, lessons = b.course(published=1)
    b.progress(user=b.user(), lesson=lessons[0], completed_at=b.at(2025, 3, 12))
    k, t = learning(P, Q)
    (row,) = tables(t)["course_completion"].rows
    assert all(type(row[key]) is int for key in ("lessons", "learners", "completed", "completed_p"))
    import json

    json.dumps([kpi.as_dict() for kpi in k])


def test_cohorts_by_channel_and_promoter():
    from insights.metrics.cohorts import cohorts

    vip = b.tier("VIP", 1)
    a, bb = b.user(nickname="推广A"), b.user(nickname="推广B")
    u1, u2, u3, u4 = (b.user() for _ in range(4))
    b.bind(user=u1, referrer=a, channel="poster", bound_at=b.days_ago(100))
    b.bind(user=u2, referrer=a, channel="poster", bound_at=b.days_ago(100))
    b.bind(user=u4, referrer=bb, channel="link", bound_at=b.days_ago(100))
    b.order(user=u1, amount_fen=100, paid_at=b.days_ago(90))
    b.order(user=u3, amount_fen=100, paid_at=b.days_ago(90))
    b.order(user=u4, amount_fen=100, paid_at=b.days_ago(90), status=Order.Status.REFUNDED, refunded_fen=100)
    course, lessons = b.course(published=2)
    for learner in (u1, u3):
        for lesson in lessons:
            b.progress(user=learner, lesson=lesson, completed_at=b.days_ago(80))
    b.progress(user=u2, lesson=lessons[0], completed_at=b.days_ago(80))
    b.membership(user=u1, tier=vip, starts_at=b.days_ago(375), ends_at=b.days_ago(10))
    b.membership(user=u3, tier=vip, starts_at=b.days_ago(385), ends_at=b.days_ago(-345))
    b.grant(user=u3, tier=vip, kind=K.RENEW, created_at=b.days_ago(25), ends_before=b.days_ago(20))

    by_key = tables(cohorts())
    channel = {r["name"]: r for r in by_key["cohort_by_channel"].rows}
    fields = ("users", "payers", "started", "completed", "due", "renewed")
    assert tuple(channel["海报"][f] for f in fields) == (2, 1, 2, 1, 1, 0)
    # u3, both promoters and the course's teacher came directly
    assert tuple(channel["自然流量（无推荐）"][f] for f in fields) == (4, 1, 1, 1, 1, 1)
    assert tuple(channel["分享链接"][f] for f in fields) == (1, 0, 0, 0, 0, 0)
    assert channel["海报"]["completion_rate"] == 0.5 and channel["自然流量（无推荐）"]["renewal_rate"] == 1.0
    promoters = {r["name"]: r for r in by_key["cohort_by_promoter"].rows}
    assert list(promoters) == ["推广A", "推广B"]
    assert tuple(promoters["推广A"][f] for f in fields) == (2, 1, 2, 1, 1, 0)
