"""`seed_demo --history` through sampledata.demo.insights: roles, logins, months of activity, idempotent."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core import roles
from insights.periods import preset_period
from insights.selectors import dashboard
from members.models import MemberNumberSequence, MembershipGrant, User
from payments.models import Order
from payments.wallet import ledger
from referrals.models import Commission
from sampledata.demo import insights as insights_demo
from sampledata.history.generate import generate as generate_history
from tests.insights import builders as b

pytestmark = pytest.mark.django_db


def test_history_fills_the_dashboard_and_is_not_doubled_on_a_second_run(settings):
    vip, ka = b.tier("VIP", 1), b.tier("KA", 2, 12_000_000)
    b.course(published=3, title="课程A")
    counts = generate_history(days=40, daily_signups=(6, 10), promoters=5, tag="t")
    assert counts["users"] > 200 and counts["orders"] > 30 and counts["commissions"] > 0
    assert generate_history(days=40, daily_signups=(6, 10), promoters=5, tag="t") == {}
    assert User.objects.filter(username__startswith="t_").count() == counts["users"]
    assert Order.objects.filter(user__username__startswith="t_").count() == counts["orders"]
    assert MembershipGrant.objects.filter(kind="renew").exists()
    # Numbers as real orders, payments, refunds and memberships get them, dated at the order's creation.
    for order in Order.objects.filter(user__username__startswith="t_").prefetch_related(
        "payments", "refunds"
    ):
        assert re.fullmatch(r"\d{20}", order.order_no), order.order_no
        assert order.order_no.startswith(timezone.localtime(order.created_at).strftime("%Y%m%d%H%M%S"))
        assert all(
            re.fullmatch(rf"{order.order_no}[0-9A-F]{{6}}", p.out_trade_no) for p in order.payments.all()
        )
        assert all(
            re.fullmatch(rf"R{order.order_no}[0-9A-F]{{6}}", r.out_refund_no) for r in order.refunds.all()
        )
    member_nos = list(
        User.objects.filter(username__startswith="t_")
        .exclude(member_no=None)
        .values_list("member_no", flat=True)
    )
    assert member_nos and all(re.fullmatch(r"(VIP|KA)-\d{6}", no) for no in member_nos)
    assert sum(MemberNumberSequence.objects.values_list("last_value", flat=True)) == len(member_nos)
    # Commission earnings went through the ledger: balances add up to what the commissions kept.
    kept = sum(c.amount_fen - c.reversed_fen for c in Commission.objects.all())
    promoters = User.objects.filter(username__startswith="t_p")
    held = sum(ledger.balances(p).pending_fen + ledger.balances(p).available_fen for p in promoters)
    assert held == kept
    board = dashboard(preset_period("30d"))
    kpi = {k.key: k for k in board.kpis}
    assert kpi["gmv"].value > 0 and kpi["signups"].value > 100 and kpi["link_visits"].value > 0
    assert board.table("revenue_over_time").rows and board.table("funnel_by_link").rows
    assert vip and ka


def test_demo_seed_sets_up_roles_and_staff_logins():
    insights_demo.seed(stdout=io.StringIO())
    insights_demo.seed(stdout=io.StringIO())
    assert set(Group.objects.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True)) == set(
        roles.ALL_ROLES
    )
    ops, finance = User.objects.get(username="ops"), User.objects.get(username="finance")
    assert (
        ops.is_staff and ops.has_perm("insights.view_dashboard") and not ops.has_perm("payments.change_order")
    )
    assert finance.has_perm("payments.change_order") and finance.has_perm("insights.export_finance")
