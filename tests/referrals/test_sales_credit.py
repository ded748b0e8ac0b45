"""Sales credit at checkout: the rep who closes a sale (their own link, or a lead an operator gave them)
is the order's rep of record, becomes the member's sales rep, and is paid on that sale at the month close;
supervisors earn their team's override; refunds after a close roll forward into the next month."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.models import AuditLog
from members.models import Onboarding, User
from payments.models import Earning, Order, Refund, Transaction
from payments.orders.payment_attempts import payment_start
from referrals import promoters, sales_credit, staff_share
from referrals.models import (
    SalesLead,
    SalesTeam,
    SalesTeamMember,
    StaffShareOverride,
    StaffShareOverrideAdjustment,
    StaffShareStatement,
)
from tests.factories import TierFactory, UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals.conftest import run_on_commit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
WAN = 1_000_000  # ¥10,000 in fen
BRACKETS = [(0, 500), (10 * WAN, 800), (50 * WAN, 1000)]  # 0–100k 5%, 100k–500k 8%, above 10%
VIP_FEN, KA_FEN = 360_000, 12_000_000


def staff(role: str, name: str, **extra) -> User:
    user = UserFactory(nickname=name, is_staff=True, **extra)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def brackets():
    return staff_share.bracket_replace(brackets=BRACKETS, actor=None)


@pytest.fixture
def tiers(db):
    return (
        TierFactory(code="VIP", price_fen=VIP_FEN, rank=1),
        TierFactory(code="KA", name="KA会员", price_fen=KA_FEN, rank=2, member_no_prefix="KA"),
    )


@pytest.fixture
def team(db):
    """Two sales reps (the rotation would pick 甲 first), a customer-service rep."""
    return {
        "first": staff(roles.SALES, "销售甲"),
        "closer": staff(roles.SALES, "销售乙"),
        "service": staff(roles.CUSTOMER_SERVICE, "客服"),
    }


def buy(user, tier: str, **kwargs) -> Order:
    return create_paid_order(user=user, item_type="membership", item_id=tier, **kwargs)


def close(month: date):
    """Close `month` one hour after it ended (Asia/Shanghai)."""
    _start, end = staff_share.month_bounds(month)
    return staff_share.staff_share_close_month(month=month, now=end + timedelta(hours=1))


def month_of(order: Order) -> date:
    return timezone.localtime(order.paid_at).date().replace(day=1)


def paid_on(order: Order, when: datetime) -> Order:
    Order.objects.filter(pk=order.pk).update(paid_at=when)
    order.refresh_from_db()
    return order


def test_member_who_arrives_through_a_reps_link_is_theirs_and_the_first_vip_sale_pays_them(
    client, brackets, tiers, team
):
    closer = team["closer"]
    # given a visitor who opens 销售乙's share link and signs up
    client.get(f"/r/{closer.referral_code}/")
    response = client.post(
        "/accounts/signup/",
        {"phone": "13800138011", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    assert response.status_code == 302
    member = User.objects.get_by_phone("13800138011")
    client.force_login(member)
    # when they buy VIP (¥3,600) through the web checkout, their first payment
    checkout = client.post(
        "/payments/checkout/", {"item_type": "membership", "item_id": "VIP", "channel": "sandbox"}
    )
    assert checkout.status_code == 302
    order = Order.objects.get(user=member)
    assert order.sales_rep == closer  # the rep of record, known before payment
    with run_on_commit():
        from payments.gateways import sandbox

        assert sandbox.sandbox_pay(payment_start(order=order, channel="sandbox").out_trade_no) < 300
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    # then 销售乙 is the member's sales rep (not the rotation's 销售甲) …
    onboarding = Onboarding.objects.get(user=member)
    assert onboarding.sales_rep == closer and onboarding.service_rep == team["service"]
    assert set(onboarding.service_group.staff_roles.values_list("user__nickname", "role")) >= {
        ("销售乙", "sales")
    }
    # … and the month close pays 销售乙 5% of the ¥3,600 sale
    closed = close(month_of(order))
    statement = StaffShareStatement.objects.get(month=closed, rep=closer)
    assert (statement.orders_count, statement.net_fen, statement.share_fen) == (1, VIP_FEN, 18_000)
    assert list(statement.lines.values_list("order_id", flat=True)) == [order.pk]
    assert statement.earning.amount_fen == 18_000 and statement.earning.user == closer
    assert not StaffShareStatement.objects.filter(rep=team["first"]).exists()


def test_first_ka_sale_through_the_reps_code_reaches_the_second_bracket(brackets, tiers, team):
    closer = team["closer"]
    member = UserFactory()
    order = buy(member, "KA", referral_code=closer.referral_code)
    assert order.sales_rep == closer and order.context["sales_rep_source"] == "link"
    assert Onboarding.objects.get(user=member).sales_rep == closer
    statement = StaffShareStatement.objects.get(month=close(month_of(order)), rep=closer)
    # ¥120,000: 100k × 5% + 20k × 8%
    assert statement.net_fen == KA_FEN and statement.share_fen == 5_000_00 + 1_600_00
    assert staff_share.statement_bracket(statement) == staff_share.Bracket(10 * WAN, 800)


def test_lead_an_operator_assigned_is_credited_and_wins_over_another_reps_link(brackets, tiers, team):
    operator = UserFactory(is_staff=True, is_superuser=True)
    # given an operator who gives a prospect (known by phone, not signed up yet) to 销售乙
    lead = sales_credit.sales_lead_assign(rep=team["closer"], phone="138 0013 8022", actor=operator)
    assert (lead.assigned_by, lead.user) == (operator, None) and lead.masked_phone == "138****8022"
    assert AuditLog.objects.filter(action="referrals.sales_lead_assign", actor=operator).exists()
    # when the prospect signs up with that phone and buys VIP through 销售甲's code
    member = UserFactory()
    member.set_phone("13800138022")
    member.save()
    order = buy(member, "VIP", referral_code=team["first"].referral_code)
    # then the lead's rep is the rep of record and the member's sales rep, and is paid on the sale
    assert order.sales_rep == team["closer"] and order.context["sales_rep_source"] == "lead"
    assert Onboarding.objects.get(user=member).sales_rep == team["closer"]
    closed = close(month_of(order))
    assert StaffShareStatement.objects.get(month=closed, rep=team["closer"]).share_fen == 18_000
    assert not StaffShareStatement.objects.filter(month=closed, rep=team["first"]).exists()


def test_a_newer_lead_assignment_replaces_the_open_one(team):
    prospect = UserFactory()
    first = sales_credit.sales_lead_assign(rep=team["first"], user=prospect, actor=None)
    second = sales_credit.sales_lead_assign(rep=team["closer"], user=prospect, actor=None, note="转交")
    first.refresh_from_db()
    assert first.ended_at is not None and first.end_reason == "reassigned"
    assert sales_credit.open_lead_for(prospect) == second
    assert SalesLead.objects.filter(user=prospect, ended_at__isnull=True).count() == 1


def test_lead_for_someone_who_is_not_a_rep_or_who_already_has_one_is_refused(tiers, team):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        sales_credit.sales_lead_assign(rep=UserFactory(is_staff=True), user=UserFactory(), actor=None)
    assert exc.value.code == "not_a_rep"
    member = UserFactory()
    buy(member, "VIP")  # onboarding by rotation
    with pytest.raises(ApplicationError) as exc:
        sales_credit.sales_lead_assign(rep=team["closer"], user=member, actor=None)
    assert exc.value.code == "lead_already_member"


def test_member_without_a_rep_gets_one_by_rotation_who_earns_from_the_next_sale(brackets, tiers, team):
    # given a member who arrives with no rep link, no lead and no binding
    member = UserFactory()
    first = buy(member, "VIP")
    # then the rotation assigns the first rep, and the order names no rep of record
    assert first.sales_rep is None
    onboarding = Onboarding.objects.get(user=member)
    assert onboarding.sales_rep == team["first"]
    # the rotated rep did not close the first sale; a later sale of their member counts
    later = buy(member, "KA")
    assert later.sales_rep is None  # a member who has a rep keeps them; no new capture
    # (WeChat's success_time has whole seconds: place the payment clearly after the assignment)
    later = paid_on(later, onboarding.reps_assigned_at + timedelta(minutes=5))
    statement = StaffShareStatement.objects.get(month=close(month_of(later)), rep=team["first"])
    assert list(statement.lines.values_list("order_id", flat=True)) == [later.pk]


def test_existing_members_rep_is_not_poached_by_another_reps_link(brackets, tiers, team):
    member = UserFactory()
    buy(member, "VIP")
    assert Onboarding.objects.get(user=member).sales_rep == team["first"]
    upgrade = buy(member, "KA", referral_code=team["closer"].referral_code)
    assert upgrade.sales_rep is None
    assigned_at = Onboarding.objects.get(user=member).reps_assigned_at
    upgrade = paid_on(upgrade, assigned_at + timedelta(minutes=5))
    closed = close(month_of(upgrade))
    assert StaffShareStatement.objects.get(month=closed, rep=team["first"]).net_fen == upgrade.amount_fen
    assert not StaffShareStatement.objects.filter(month=closed, rep=team["closer"]).exists()


def _blocked(rep: User) -> None:
    rep.is_active = False
    rep.save(update_fields=["is_active"])


def _no_longer_staff(rep: User) -> None:
    rep.is_staff = False
    rep.save(update_fields=["is_staff"])


def _out_of_the_sales_role(rep: User) -> None:
    rep.groups.clear()


def _blocked_promoter(rep: User) -> None:
    promoters.promoter_block(user=rep, blocked=True, actor=None, reason="违规")


@pytest.mark.parametrize("leave", [_blocked, _no_longer_staff, _out_of_the_sales_role, _blocked_promoter])
def test_link_of_a_blocked_or_former_rep_gives_no_credit_and_no_assignment(brackets, tiers, team, leave):
    # given 销售乙 has been blocked or has left the sales team
    leave(team["closer"])
    # when a new member buys VIP through 销售乙's code
    member = UserFactory()
    order = buy(member, "VIP", referral_code=team["closer"].referral_code)
    # then the order names no rep, the rotation assigns the member, and 销售乙 earns nothing
    assert order.sales_rep is None
    assert Onboarding.objects.get(user=member).sales_rep == team["first"]
    closed = close(month_of(order))
    assert not StaffShareStatement.objects.filter(month=closed, rep=team["closer"]).exists()
    assert not Earning.objects.filter(user=team["closer"]).exists()


def test_rep_who_leaves_between_checkout_and_payment_is_not_assigned(tiers, team):
    from payments.gateways import sandbox
    from payments.orders.checkout import order_create

    member = UserFactory()
    with run_on_commit():
        order = order_create(
            user=member,
            item_type="membership",
            item_id="VIP",
            channel="sandbox",
            referral_code=team["closer"].referral_code,
        )
    assert order.sales_rep == team["closer"]
    _blocked(team["closer"])
    with run_on_commit():
        assert sandbox.sandbox_pay(payment_start(order=order, channel="sandbox").out_trade_no) < 300
    assert Onboarding.objects.get(user=member).sales_rep == team["first"]


def test_supervisor_earns_the_override_on_the_teams_volume_once(brackets, team):
    # given a team (销售甲, 销售乙) under a supervisor with a 1.5% override, and a rep outside it
    supervisor = staff(roles.SALES, "主管")
    outsider = staff(roles.SALES, "销售丙")
    squad = SalesTeam.objects.create(name="一组", supervisor=supervisor, override_bp=150)
    SalesTeamMember.objects.create(team=squad, rep=team["first"])
    SalesTeamMember.objects.create(team=squad, rep=team["closer"])
    january = datetime(2025, 1, 12, 10, tzinfo=SH)
    for rep, count in ((team["first"], 2), (team["closer"], 1), (outsider, 3)):
        for _i in range(count):
            paid_on(
                create_paid_order(
                    user=UserFactory(), item_type=TEST_ITEM, item_id="B", referral_code=rep.referral_code
                ),
                january,
            )
    # when January is closed
    closed = staff_share.staff_share_close_month(
        month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH)
    )
    # then the supervisor earns 1.5% of the team's ¥9,720 (3 × ¥3,240), the outsider's sales not included
    override = StaffShareOverride.objects.get(month=closed, supervisor=supervisor)
    assert (override.team_name, override.rate_bp, override.volume_fen) == ("一组", 150, 3 * 324_000)
    assert override.share_fen == 3 * 324_000 * 150 // 10_000 == 14_580
    assert set(override.statements.values_list("rep_id", flat=True)) == {team["first"].pk, team["closer"].pk}
    assert override.earning.user == supervisor and override.earning.amount_fen == 14_580
    assert closed.override_fen == 14_580
    # posted once: the ledger transaction is keyed by month and supervisor, and a second close is a no-op
    assert (
        Earning.objects.filter(idempotency_key=f"staff-share-override:2025-01:{supervisor.pk}").count() == 1
    )
    staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 3, 1, tzinfo=SH))
    assert Earning.objects.filter(user=supervisor).count() == 1


def test_refunds_after_the_close_roll_forward_for_the_rep_and_the_supervisor(client, brackets, team):
    supervisor = staff(roles.SALES, "主管")
    squad = SalesTeam.objects.create(name="一组", supervisor=supervisor, override_bp=200)
    SalesTeamMember.objects.create(team=squad, rep=team["closer"])
    january = datetime(2025, 1, 12, 10, tzinfo=SH)
    orders = [
        paid_on(
            create_paid_order(
                user=UserFactory(),
                item_type=TEST_ITEM,
                item_id="B",
                referral_code=team["closer"].referral_code,
            ),
            january,
        )
        for _i in range(2)
    ]
    jan = staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH))
    jan_statement = StaffShareStatement.objects.get(month=jan, rep=team["closer"])
    assert jan_statement.share_fen == 2 * 324_000 * 500 // 10_000 == 32_400
    assert StaffShareOverride.objects.get(month=jan).share_fen == 2 * 324_000 * 200 // 10_000 == 12_960
    # when one January order is refunded in February (January is locked)
    refund_order(order=orders[0])
    Refund.objects.filter(order=orders[0]).update(completed_at=datetime(2025, 2, 3, tzinfo=SH))
    feb = staff_share.staff_share_close_month(month=date(2025, 2, 1), now=datetime(2025, 3, 1, 1, tzinfo=SH))
    # then February deducts what January's share and override lose on it
    feb_statement = StaffShareStatement.objects.get(month=feb, rep=team["closer"])
    assert (feb_statement.orders_count, feb_statement.share_fen) == (0, 0)
    assert feb_statement.adjustment_fen == 324_000 * 500 // 10_000
    feb_override = StaffShareOverride.objects.get(month=feb, supervisor=supervisor)
    assert (feb_override.volume_fen, feb_override.share_fen, feb_override.adjustment_fen) == (0, 0, 6_480)
    adjustment = StaffShareOverrideAdjustment.objects.get(override=feb_override)
    assert adjustment.source.month == jan and adjustment.refunded_fen == 324_000
    assert feb.adjustment_fen == 16_200 + 6_480
    deductions = Transaction.objects.filter(kind=Transaction.Kind.DEDUCT)
    assert {t.idempotency_key for t in deductions} >= {
        f"deduct:staff-share-adjust:2025-02:{team['closer'].pk}",
        f"deduct:staff-share-override-adjust:2025-02:{supervisor.pk}",
    }
    # and March finds nothing new
    staff_share.staff_share_close_month(month=date(2025, 3, 1), now=datetime(2025, 4, 1, 1, tzinfo=SH))
    assert StaffShareOverrideAdjustment.objects.count() == 1
    # the operator sees it on February's statement: the refund rolled forward from January
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get(reverse("admin:referrals_staffsharestatement_change", args=[feb_statement.pk]))
    assert page.status_code == 200 and "¥3,240.00" in page.content.decode()
    listing = client.get(reverse("admin:referrals_staffsharestatement_changelist")).content.decode()
    assert "¥3,240.00" in listing  # February's rolled-forward refund
    assert "5%" in listing  # January's bracket reached
    month_page = client.get(reverse("admin:referrals_staffsharemonth_change", args=[feb.pk])).content.decode()
    assert "一组" in month_page


def test_operator_assigns_a_lead_in_admin(client, team):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:referrals_saleslead_add")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"phone": "", "rep": team["closer"].pk})
    assert refused.status_code == 200 and SalesLead.objects.count() == 0
    created = client.post(url, {"phone": "13800138033", "rep": team["closer"].pk, "note": "展会客户"})
    assert created.status_code == 302
    lead = SalesLead.objects.get()
    assert (lead.rep, lead.assigned_by, lead.note) == (team["closer"], operator, "展会客户")
    assert lead.phone_hash == sales_credit.phone_hash_for("13800138033")
    listing = client.get(reverse("admin:referrals_saleslead_changelist")).content.decode()
    assert "138****8033" in listing and "13800138033" not in listing
    assert client.get(reverse("admin:referrals_salesteam_add")).status_code == 200
