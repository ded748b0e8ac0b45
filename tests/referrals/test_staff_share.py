"""Staff progressive profit share: brackets, month boundaries (Asia/Shanghai), lock, next-month corrections."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ApplicationError
from members.models import Onboarding
from payments.models import Earning, Order
from payments.wallet import ledger, settlement
from referrals import staff_share
from referrals.models import StaffShareAdjustment, StaffShareMonth, StaffShareStatement
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
WAN = 1_000_000  # ¥10,000 in fen
BRACKETS = [(0, 500), (10 * WAN, 800), (50 * WAN, 1000)]  # 0–100k 5%, 100k–500k 8%, above 10%


@pytest.fixture
def brackets():
    return staff_share.bracket_replace(brackets=BRACKETS, actor=None)


@pytest.fixture
def rep(db):
    return UserFactory(nickname="销售小王", is_staff=True)


def assign(member, rep, at=None):
    at = at or datetime(2025, 1, 1, tzinfo=SH)
    return Onboarding.objects.create(
        user=member, sales_rep=rep, reps_assigned_at=at, started_at=at, stage_since=at
    )


def paid_at(order: Order, when: datetime) -> Order:
    Order.objects.filter(pk=order.pk).update(paid_at=when)
    order.refresh_from_db()
    return order


def sale(member, when: datetime, item: str = "B") -> Order:
    return paid_at(create_paid_order(user=member, item_type=TEST_ITEM, item_id=item), when)


def test_progressive_share_is_marginal():
    b = [staff_share.Bracket(lo, rate) for lo, rate in BRACKETS]
    assert staff_share.progressive_share(0, b) == 0
    assert staff_share.progressive_share(10 * WAN, b) == 5 * WAN // 10  # 100k × 5% = 5,000
    assert staff_share.progressive_share(20 * WAN, b) == 5_000_00 + 8_000_00  # + 100k × 8%
    assert staff_share.progressive_share(60 * WAN, b) == 5_000_00 + 32_000_00 + 10_000_00


@given(volume=st.integers(min_value=0, max_value=10**12), extra=st.integers(min_value=0, max_value=10**9))
def test_progressive_share_never_decreases_and_stays_under_the_top_rate(volume, extra):
    b = [staff_share.Bracket(lo, rate) for lo, rate in BRACKETS]
    low, high = staff_share.progressive_share(volume, b), staff_share.progressive_share(volume + extra, b)
    assert 0 <= low <= high
    assert low <= volume * 1000 // 10_000


def test_month_boundary_follows_shanghai_time_and_the_close_posts_once(brackets, rep):
    # given two assigned members buying ¥3,240 each, one second before and at midnight of 1 February
    member, other = UserFactory(), UserFactory()
    assign(member, rep)
    assign(other, rep)
    january = sale(member, datetime(2025, 1, 31, 23, 59, 59, tzinfo=SH))
    february = sale(other, datetime(2025, 2, 1, 0, 0, 0, tzinfo=SH))
    unassigned = sale(UserFactory(), datetime(2025, 1, 15, tzinfo=SH))
    # when January is closed
    closed = staff_share.staff_share_close_month(
        month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH)
    )
    # then only the January order counts, at 5%
    statement = StaffShareStatement.objects.get(month=closed, rep=rep)
    assert (statement.gross_fen, statement.net_fen, statement.orders_count) == (324_000, 324_000, 1)
    assert statement.share_fen == 16_200
    assert list(statement.lines.values_list("order_id", flat=True)) == [january.pk]
    assert unassigned.pk not in statement.lines.values_list("order_id", flat=True)
    earning = statement.earning
    assert (earning.source, earning.amount_fen, earning.user_id) == ("staff_share", 16_200, rep.pk)
    # a second close of the same month returns it unchanged (locked)
    again = staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 3, 1, tzinfo=SH))
    assert again.pk == closed.pk
    assert Earning.objects.filter(source="staff_share").count() == 1
    # when February is closed, the order of 00:00:00 on 1 February is there
    feb = staff_share.staff_share_close_month(month=date(2025, 2, 1), now=datetime(2025, 3, 1, 1, tzinfo=SH))
    assert list(
        StaffShareStatement.objects.get(month=feb, rep=rep).lines.values_list("order_id", flat=True)
    ) == [february.pk]


def test_refund_inside_the_month_lowers_volume_and_a_later_refund_is_deducted_next_month(brackets, rep):
    # given 40 sales of ¥3,240 in January (¥129,600: the top 29,600 earns 8%)
    members = [UserFactory() for _ in range(4)]
    for m in members:
        assign(m, rep)
    orders = [sale(members[i % 4], datetime(2025, 1, 10, 12, tzinfo=SH)) for i in range(40)]
    # one is refunded in January, before the close
    refund_order(order=orders[0])
    from payments.models import Refund

    Refund.objects.filter(order=orders[0]).update(completed_at=datetime(2025, 1, 20, tzinfo=SH))
    jan = staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH))
    statement = StaffShareStatement.objects.get(month=jan, rep=rep)
    assert statement.net_fen == 39 * 324_000 == 12_636_000
    assert statement.share_fen == 5 * WAN // 10 + (12_636_000 - 10 * WAN) * 800 // 10_000
    settled_share = statement.share_fen
    settlement.settle_due(now=timezone.now() + timedelta(days=1))
    assert ledger.balances(rep).available_fen == settled_share
    # when another January order is refunded in February (after January was locked)
    refund_order(order=orders[1])
    Refund.objects.filter(order=orders[1]).update(completed_at=datetime(2025, 2, 3, tzinfo=SH))
    # then January does not change …
    statement.refresh_from_db()
    assert statement.share_fen == settled_share
    # … and closing February deducts exactly what January's share loses (at the marginal 8%)
    feb = staff_share.staff_share_close_month(month=date(2025, 2, 1), now=datetime(2025, 3, 1, 1, tzinfo=SH))
    feb_statement = StaffShareStatement.objects.get(month=feb, rep=rep)
    assert feb_statement.share_fen == 0 and feb_statement.adjustment_fen == 324_000 * 800 // 10_000
    adjustment = StaffShareAdjustment.objects.get(statement=feb_statement)
    assert adjustment.source == statement and adjustment.refunded_fen == 324_000
    assert ledger.balances(rep).available_fen == settled_share - feb_statement.adjustment_fen
    # and closing March finds nothing new for January
    staff_share.staff_share_close_month(month=date(2025, 3, 1), now=datetime(2025, 4, 1, 1, tzinfo=SH))
    assert StaffShareAdjustment.objects.count() == 1


def test_deduction_larger_than_available_makes_receivable_negative(brackets, rep):
    member = UserFactory()
    assign(member, rep)
    order = sale(member, datetime(2025, 1, 10, tzinfo=SH))
    staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH))
    # the rep has not been settled yet: everything is still pending, nothing available
    refund_order(order=order)
    from payments.models import Refund

    Refund.objects.filter(order=order).update(completed_at=datetime(2025, 2, 2, tzinfo=SH))
    staff_share.staff_share_close_month(month=date(2025, 2, 1), now=datetime(2025, 3, 1, 1, tzinfo=SH))
    balances = ledger.balances(rep)
    assert balances.pending_fen == 16_200 and balances.receivable_fen == -16_200
    # settlement repays the receivable first
    settlement.settle_due(now=timezone.now() + timedelta(days=1))
    balances = ledger.balances(rep)
    assert (balances.available_fen, balances.receivable_fen) == (0, 0)


def test_months_close_in_order_and_only_when_over(brackets, rep):
    with pytest.raises(ApplicationError) as exc:
        staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 1, 31, 23, tzinfo=SH))
    assert exc.value.code == "month_not_over"
    staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 4, 1, tzinfo=SH))
    with pytest.raises(ApplicationError) as exc:
        staff_share.staff_share_close_month(month=date(2025, 3, 1), now=datetime(2025, 4, 1, tzinfo=SH))
    assert exc.value.code == "earlier_month_open"
    closed = staff_share.staff_share_close_due(now=datetime(2025, 4, 2, tzinfo=SH))
    assert [m.month for m in closed] == [date(2025, 2, 1), date(2025, 3, 1)]
    assert StaffShareMonth.objects.count() == 3


def test_orders_before_assignment_do_not_count(brackets, rep):
    member = UserFactory()
    assign(member, rep, at=datetime(2025, 1, 20, tzinfo=SH))
    sale(member, datetime(2025, 1, 10, tzinfo=SH))
    counted = sale(member, datetime(2025, 1, 25, tzinfo=SH))
    jan = staff_share.staff_share_close_month(month=date(2025, 1, 1), now=datetime(2025, 2, 1, 1, tzinfo=SH))
    assert list(StaffShareStatement.objects.get(month=jan).lines.values_list("order_id", flat=True)) == [
        counted.pk
    ]


def test_monthly_task_closes_last_month(brackets, rep, monkeypatch):
    from referrals import tasks

    member = UserFactory()
    assign(member, rep)
    now = timezone.now()
    sale(member, now.replace(day=1) - timedelta(days=2))
    result = tasks.close_staff_share_month()
    last_month = staff_share.previous_month(timezone.localdate().replace(day=1))
    assert result == [last_month.isoformat()]
    assert tasks.close_staff_share_month() == []
