"""Compliance export (tree depth incl. the top, size, fees) with drift warnings; operator admin screens."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.roles import OPERATOR
from referrals import compliance
from referrals.models import CommissionRule, ReferralSettings
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    user = UserFactory(is_staff=True, is_superuser=True, nickname="运营")
    return user


@pytest.fixture
def trees(alice, bob, carol, dave):
    """Alice → Bob → Carol (3 levels incl. Alice), Alice → Dave; a separate pair Eve → Frank."""
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    f.bind(carol, bob)
    f.bind(dave, alice)
    eve, frank = UserFactory(nickname="Eve"), UserFactory(nickname="Frank")
    f.bind(frank, eve)
    create_paid_order(user=carol, item_type=TEST_ITEM, item_id="A")
    order = create_paid_order(user=bob, item_type=TEST_ITEM, item_id="B")
    refund_order(order=order, amount_fen=24_000)
    return eve, frank


def test_trees_count_depth_including_the_top_size_and_fees(trees, alice, bob, carol):
    result = compliance.referral_trees()
    assert [(t.root_id, t.depth, t.size) for t in result] == [(alice.pk, 3, 4), (trees[0].pk, 2, 2)]
    first = result[0]
    by_user = {p.user_id: p for p in first.participants}
    assert by_user[alice.pk].depth == 1 and by_user[carol.pk].depth == 3
    assert by_user[bob.pk].fees_paid_fen == 324_000 - 24_000  # net of the partial refund
    assert by_user[carol.pk].fees_paid_fen == 9_900
    assert by_user[bob.pk].commission_fen == 990  # Carol's purchase, direct level only
    assert by_user[alice.pk].commission_fen == 30_000  # Bob's ¥3,000 net × 10%
    assert first.fees_paid_fen == 300_000 + 9_900


def test_no_warnings_for_the_default_configuration(trees):
    assert [w.code for w in compliance.compliance_report()["warnings"]] == []


def test_warnings_when_configuration_drifts(trees):
    f.configure(commission_depth=2, earning_requires_membership=True)
    f.rule(rate_bp=2500, level=2)
    CommissionRule.objects.filter(level=1).update(rate_bp=1000)
    codes = {w.code for w in compliance.compliance_report()["warnings"]}
    assert {"level2_enabled", "purchase_required", "high_rate", "level2_paid_in_deep_trees"} <= codes


def test_level_two_rule_without_level_two_is_reported_as_inactive():
    f.rule(level=2)
    assert [w.code for w in compliance.configuration_warnings()] == ["level2_rule_inactive"]


def test_prosecution_thresholds_are_flagged():
    top = UserFactory()
    middle = [UserFactory() for _ in range(3)]
    for user in middle:
        f.bind(user, top)
    for index in range(27):
        f.bind(UserFactory(), middle[index % 3])
    tree = compliance.referral_trees()[0]
    assert (tree.depth, tree.size) == (3, 31)
    assert "tree_thresholds" in {w.code for w in compliance.tree_warnings([tree])}


def test_csv_export_lists_every_participant(client, operator, trees, alice):
    client.force_login(operator)
    response = client.get(reverse("referrals:compliance_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    alice_row = next(r for r in rows if r["user_id"] == str(alice.pk))
    assert alice_row["tree_depth"] == "3" and alice_row["depth_in_tree"] == "1"


def test_compliance_page_is_for_operators_only_with_a_fixed_query_count(
    client, operator, trees, django_assert_max_num_queries
):
    member = UserFactory()
    client.force_login(member)
    assert client.get(reverse("referrals:compliance")).status_code == 404
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get_or_create(name=OPERATOR)[0])
    client.force_login(staff)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("referrals:compliance"))
    assert response.status_code == 200
    assert "推广合规报告" in response.content.decode()


def test_admin_screens_render(client, operator, trees):
    client.force_login(operator)
    for name in (
        "referralsettings",
        "promoterlevel",
        "commissionrule",
        "promoter",
        "referralbinding",
        "bindingrefusal",
        "referrallinkstat",
        "commission",
        "promoteragreement",
        "agreementacceptance",
        "groupbuyoffer",
        "groupbuy",
        "staffsharebracket",
        "staffsharemonth",
        "staffsharestatement",
    ):
        response = client.get(reverse(f"admin:referrals_{name}_changelist"), follow=True)
        assert response.status_code == 200, name
    assert client.get(reverse("admin:referrals_referralbinding_add")).status_code == 200
    assert client.get(reverse("admin:referrals_commissionrule_add")).status_code == 200


def test_enabling_level_two_in_admin_requires_the_acknowledgement(client, operator):
    client.force_login(operator)
    conf = ReferralSettings.current()
    url = reverse("admin:referrals_referralsettings_change", args=[conf.pk])
    data = {
        "binding_validity_days": 365,
        "protection_days": 30,
        "commission_depth": 2,
        "leaderboard_size": 10,
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "合规风险" in refused.content.decode()
    assert ReferralSettings.current().commission_depth == 1
    accepted = client.post(url, {**data, "acknowledge_level2": "on"})
    assert accepted.status_code == 302
    conf = ReferralSettings.current()
    assert conf.commission_depth == 2 and conf.level2_acknowledged_by == operator


def test_operator_binding_through_admin_is_checked(client, operator, alice, bob):
    client.force_login(operator)
    f.bind(bob, alice)
    url = reverse("admin:referrals_referralbinding_add")
    cycle = client.post(url, {"user": alice.pk, "referrer": bob.pk})
    assert cycle.status_code == 200 and "不能互相绑定" in cycle.content.decode()
    carol = UserFactory()
    created = client.post(url, {"user": carol.pk, "referrer": alice.pk})
    assert created.status_code == 302
    assert carol.referral_bindings.get().source == "operator"


def test_admin_closes_due_staff_share_months(client, operator):
    client.force_login(operator)
    response = client.post(reverse("admin:referrals_staffsharemonth_close"), follow=True)
    assert response.status_code == 200
    from referrals.models import StaffShareMonth

    assert StaffShareMonth.objects.count() == 1  # last month, even with no sales


def test_promoter_admin_changes_level_and_block_through_audited_services(client, operator, alice):
    from core.models import AuditLog
    from referrals.models import Promoter

    kol = f.level("kol", 2, commission_rate_bp=2000)
    client.force_login(operator)
    add = client.post(
        reverse("admin:referrals_promoter_add"),
        {"user": alice.pk, "level": kol.pk, "is_blocked": "on", "blocked_reason": "刷单"},
    )
    assert add.status_code == 302, add.content.decode()[:3000]
    promoter = Promoter.objects.get(user=alice)
    assert promoter.level == kol and promoter.level_source == "operator" and promoter.is_blocked
    assert set(AuditLog.objects.values_list("action", flat=True)) >= {
        "referrals.promoter_level",
        "referrals.promoter_block",
    }


def test_a_binding_change_page_shows_the_channel_as_its_label_and_edits_nothing(client, operator, alice, bob):
    binding = f.bind(bob, alice, channel="moments")
    client.force_login(operator)
    page = client.get(reverse("admin:referrals_referralbinding_change", args=[binding.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "朋友圈" in body
    assert 'name="channel"' not in body  # read-only: no input, and no raw code for the operator
