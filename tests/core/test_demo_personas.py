"""The demo personas agree with themselves on every page: what `vip` holds was bought through real
orders at the moment her story says (a month ago, sampledata/demo/clock.py), everything she did since
is dated between then and now, the promoter's commission from that purchase has been settled by the
nightly batch as it would have been, and the newcomer `member` shows where her points came from."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.POINTS_SIGNUP_BONUS = 1000  # as config/settings/dev.py gives `make demo`
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent


def local(moment):
    return timezone.localtime(moment)


def assert_between(label, moments, lo, hi):
    """Every moment lies in [lo, hi] (a second of slack for the clock ticking inside a replayed step)."""
    moments = list(moments)
    assert moments, f"no {label}"
    for moment in moments:
        assert lo - timedelta(seconds=1) <= moment <= hi, (
            f"{label} at {local(moment)}, not in [{local(lo)}, {local(hi)}]"
        )


def assert_same_moment(a, b, label):
    assert abs(a - b) < timedelta(minutes=1), f"{label}: {local(a)} vs {local(b)}"


def test_the_vip_persona_a_month_in_agrees_on_every_page(seeded, client):
    from circles.models import CircleMembership, Post, RulesAcceptance
    from courses.models import CheckIn, EventRegistration, LessonProgress, TermSeat
    from members.models import Membership, MembershipGrant, Notification, Onboarding, PointsEntry, User
    from payments.models import Order

    now = timezone.now()
    vip = User.objects.get(username="vip")
    membership = Membership.objects.get(user=vip)
    start = membership.starts_at
    assert membership.tier.code == "VIP"
    assert timedelta(days=29) < now - start < timedelta(days=31)  # "a month in"
    assert membership.ends_at - start == timedelta(days=365)
    assert vip.date_joined < start  # she signed up (through the promoter's link) before buying

    # Bought then, through the real path: the order, its number, the grant, the points, the notification.
    order = Order.objects.get(user=vip, item_type="membership", status="paid")
    assert_same_moment(order.paid_at, start, "VIP order paid / membership start")
    assert re.fullmatch(r"\d{20}", order.order_no)
    assert order.order_no.startswith(local(order.created_at).strftime("%Y%m%d%H%M"))
    grant = MembershipGrant.objects.get(user=vip)
    assert grant.order == order and grant.starts_after == start and grant.ends_after == membership.ends_at
    welcome = Notification.objects.get(user=vip, kind="membership")
    assert f"有效期至 {local(membership.ends_at):%Y-%m-%d}" in welcome.body
    assert_same_moment(welcome.created_at, start, "welcome notification")
    purchase_points = PointsEntry.objects.get(user=vip, idempotency_key=f"order-paid:{order.order_no}")
    assert_same_moment(purchase_points.created_at, order.paid_at, "purchase points")

    # Everything she did after is dated between joining and now.
    assert_between(
        "orders",
        Order.objects.filter(user=vip).values_list("created_at", flat=True),
        start - timedelta(minutes=1),
        now,
    )
    assert_between(
        "grants", MembershipGrant.objects.filter(user=vip).values_list("created_at", flat=True), start, now
    )
    assert_between(
        "notifications",
        Notification.objects.filter(user=vip).values_list("created_at", flat=True),
        start,
        now,
    )
    for notification in Notification.objects.filter(user=vip):  # read in the app, after it came
        assert notification.read_at is not None and notification.created_at <= notification.read_at <= now
    assert_between(
        "points",
        PointsEntry.objects.filter(user=vip).values_list("created_at", flat=True),
        vip.date_joined,
        now,
    )
    progress = LessonProgress.objects.filter(user=vip)
    assert progress.filter(completed=True).count() == 2
    assert_between("lesson progress", progress.values_list("updated_at", flat=True), start, now)
    assert len({local(p.updated_at).date() for p in progress}) == 3  # over the weeks, not all at once
    seat = TermSeat.objects.get(user=vip)
    checkins = CheckIn.objects.filter(user=vip).select_related("task", "term")
    assert checkins.count() == 3
    assert_between("check-ins", checkins.values_list("created_at", flat=True), seat.created_at, now)
    for checkin in checkins:  # each on its term day, in the morning
        assert local(checkin.created_at).date() == checkin.term.date_of_day(checkin.task.day)
    assert seat.created_at.date() <= seat.term.start_date and seat.created_at >= start
    ticket = EventRegistration.objects.get(user=vip, status="confirmed")
    assert_between("ticket", [ticket.created_at], start, now)
    assert ticket.event.starts_at > now
    circle_order = Order.objects.get(user=vip, item_type="circle", status="paid")
    circle_membership = CircleMembership.objects.get(user=vip, circle__name="知圈创作者圈")
    assert_between("circle", [circle_order.paid_at, circle_membership.joined_at], start, now)
    accepted = RulesAcceptance.objects.get(user=vip, circle=circle_membership.circle)
    assert_between("rules accepted", [accepted.accepted_at], circle_order.paid_at, now)
    post = Post.objects.get(author=vip)
    assert_between(
        "post", [post.created_at], max(c.created_at for c in checkins), now
    )  # looks back on 3 check-ins

    # Onboarding done through the real services: reps at the purchase, each step after the one before.
    onboarding = Onboarding.objects.get(user=vip)
    assert onboarding.stage == Onboarding.Stage.DONE and onboarding.sales_rep and onboarding.service_rep
    assert_same_moment(onboarding.reps_assigned_at, start, "reps assigned")
    steps = [
        onboarding.reps_assigned_at,
        onboarding.service_group_joined_at,
        onboarding.intro_submitted_at,
        onboarding.big_group_joined_at,
    ]
    assert steps == sorted(steps) and onboarding.completed_at == steps[-1]
    assert_between("onboarding steps", steps, start, now)

    client.force_login(vip)
    home = client.get("/").content.decode()
    assert "林晓雨" in home and 'data-panel="camp"' in home and 'data-panel="ticket"' in home
    assert "已学 50%" in home
    account = client.get("/account/").content.decode()
    assert vip.member_no in account and "data-onboarding-done" in account and "去完成" not in account
    assert f"{local(membership.ends_at):%Y-%m-%d}" in account


def test_the_promoters_wallet_earnings_and_referral_page_agree(seeded, client):
    from members.models import Membership, User
    from payments.models import Earning, Order
    from payments.wallet import ledger
    from referrals.models import Commission, ReferralBinding
    from referrals.models.attribution import ReferralLinkStat

    now = timezone.now()
    promoter = User.objects.get(username="promoter")
    vip = User.objects.get(username="vip")
    vip_order = Order.objects.get(user=vip, item_type="membership", status="paid")
    commissions = list(Commission.objects.filter(beneficiary=promoter).select_related("earning", "order"))
    assert vip_order.pk in {c.order_id for c in commissions}
    for commission in commissions:
        # accrued when the order was paid, held for the refund window, settled by the first nightly
        # batch (02:00, payments.schedules) after the window ended: no longer 冻结中 a month later
        assert_same_moment(commission.created_at, commission.order.paid_at, "commission accrued")
        earning = commission.earning
        assert commission.hold_until < now and earning.status == Earning.Status.SETTLED
        settled = local(earning.settled_at)
        assert earning.settled_at > commission.hold_until and settled.hour == 2
        assert earning.settled_at - commission.hold_until < timedelta(days=1)
    earnings = Earning.objects.filter(user=promoter)
    settled = sum(e.amount_fen - e.reversed_fen for e in earnings.filter(status=Earning.Status.SETTLED))
    held = sum(e.amount_fen - e.reversed_fen for e in earnings.filter(status=Earning.Status.HELD))
    balances = ledger.balances(promoter)
    assert settled == sum(c.amount_fen - c.reversed_fen for c in commissions) > 0
    assert balances.available_fen == settled - balances.withdrawing_fen - balances.withdrawn_fen
    assert balances.pending_fen == held == 0

    # The promoter joined, and their friend signed up through their link, before 林晓雨 did.
    invitees = {b.user.username: b for b in ReferralBinding.objects.filter(referrer=promoter)}
    assert set(invitees) == {"friend", "vip"}
    assert promoter.date_joined < invitees["friend"].bound_at < invitees["vip"].bound_at
    assert invitees["vip"].bound_at <= Membership.objects.get(user=vip).starts_at
    # They came through the share link: each sign-up counted after a visit, none without one.
    stats = ReferralLinkStat.objects.filter(user=promoter)
    assert sum(st.signups for st in stats) == 2 and all(st.visits >= st.signups for st in stats)

    client.force_login(promoter)
    centre = client.get("/referrals/").content.decode()
    available_yuan = f"{balances.available_fen / 100:,.2f}"
    assert available_yuan in centre
    listed = client.get("/referrals/commissions/").content.decode()
    assert "已结算" in listed and "冻结中" not in listed
    assert "已购买" in client.get("/referrals/invited/").content.decode()


def test_the_ka_persona_bought_ka_two_weeks_ago_and_is_onboarded(seeded):
    from members.models import Membership, Notification, Onboarding, User
    from payments.models import Order

    now = timezone.now()
    ka = User.objects.get(username="ka")
    membership = Membership.objects.get(user=ka)
    assert membership.tier.code == "KA" and timedelta(days=14) < now - membership.starts_at < timedelta(
        days=16
    )
    order = Order.objects.get(user=ka, item_type="membership", status="paid")
    assert_same_moment(order.paid_at, membership.starts_at, "KA order paid / membership start")
    assert ka.date_joined < membership.starts_at
    assert_between(
        "notifications",
        Notification.objects.filter(user=ka).values_list("created_at", flat=True),
        membership.starts_at,
        now,
    )
    welcome = Notification.objects.get(user=ka, kind="membership")
    assert f"有效期至 {local(membership.ends_at):%Y-%m-%d}" in welcome.body
    onboarding = Onboarding.objects.get(user=ka)
    assert onboarding.stage == Onboarding.Stage.DONE
    assert_between("onboarding completed", [onboarding.completed_at], membership.starts_at, now)


def test_the_newcomer_sees_where_her_points_came_from(seeded, client):
    from members.models import Membership, PointsEntry, User
    from payments.models import Order
    from payments.wallet import ledger

    member = User.objects.get(username="member")
    assert (
        not Membership.objects.filter(user=member).exists() and not Order.objects.filter(user=member).exists()
    )
    assert ledger.balances(member).total_earned_fen == 0
    bonus = PointsEntry.objects.get(user=member)  # the sign-up listener's 新人礼包, nothing else
    assert bonus.amount == 1000 and bonus.idempotency_key == f"signup-bonus:{member.pk}"
    assert_same_moment(bonus.created_at, member.date_joined, "新人礼包 / sign-up")
    assert timezone.now() - member.date_joined < timedelta(days=1)  # she has just signed up

    client.force_login(member)
    page = client.get("/account/points/").content.decode()
    assert "新人礼包" in page and "1000" in page
    assert f"{local(bonus.created_at):%Y-%m-%d %H:%M}" in page  # the entry, with its date
    assert "新会员注册即得新人礼包 1000 积分" in page  # and the rule behind it


def test_demo_items_have_generated_covers_and_no_seed_artefacts(seeded, client):
    from courses.models import Course, Term
    from payments.models import Order

    assert all(course.cover for course in Course.objects.all())
    assert not Term.objects.filter(name__startswith="H").exists()
    assert all(re.fullmatch(r"\d{20}", no) for no in Order.objects.values_list("order_no", flat=True))
    page = client.get(f"/courses/{Course.objects.order_by('sort_order').first().pk}/").content.decode()
    assert "讲师老张" not in page
