"""Operator screens (filters, grant with reason, reassign, funnel, reps see their own members) and demo data."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core import roles
from core.models import AuditLog
from members.memberships.selectors import active_membership, days_left
from members.models import Membership, MembershipTier, Onboarding, Reward, ServiceGroup, User
from members.notifications.services import notification_send
from members.onboarding.selectors import onboarding_funnel, onboarding_stuck
from members.points.selectors import points_balance
from members.points.services import points_award
from sampledata.demo import members as members_demo
from tests.factories import UserFactory
from tests.members.helpers import age, buy


@pytest.fixture
def operator(db):
    return UserFactory(username="op", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def rep(role: str, name: str, *perms: str):
    user = UserFactory(nickname=name, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_member_list_filters_by_tier_expiry_and_onboarding(admin_client, vip, ka):
    vip_soon, ka_member = UserFactory(username="vip_soon"), UserFactory(username="ka_member")
    UserFactory(username="plain")
    buy(vip_soon, "VIP")
    age(vip_soon, 350)
    buy(ka_member, "KA")

    def names(query: str) -> set[str]:
        response = admin_client.get(f"/admin/members/user/?{query}")
        assert response.status_code == 200
        return {u.username for u in response.context["cl"].result_list}

    assert names("tier=VIP") == {"vip_soon"}
    assert names("tier=KA") == {"ka_member"}
    assert "plain" in names("tier=none") and "vip_soon" not in names("tier=none")
    assert names("expiry=30") == {"vip_soon"}
    assert names("expiry=active") == {"vip_soon", "ka_member"}
    assert names("onboarding=reps") == {"vip_soon", "ka_member"}  # no staff reps in this test
    page = admin_client.get("/admin/members/user/?tier=VIP").content.decode()
    assert "VIP-000001" in page


def test_operator_grants_a_membership_with_a_reason(admin_client, operator, member, vip):
    url = "/admin/members/user/"
    form_page = admin_client.post(url, {"action": "grant_membership", "_selected_action": [member.pk]})
    assert form_page.status_code == 200 and "开通/延长会员" in form_page.content.decode()
    response = admin_client.post(
        url,
        {
            "action": "grant_membership",
            "_selected_action": [member.pk],
            "apply": "1",
            "tier": vip.pk,
            "days": 90,
            "reason": "线下转账",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=member)
    assert days_left(membership) == 90
    grant = membership.grants.get()
    assert grant.operator == operator and grant.reason == "线下转账"
    assert AuditLog.objects.filter(action="membership_grant", actor=operator).exists()


def test_grant_without_a_reason_is_refused(admin_client, member, vip):
    response = admin_client.post(
        "/admin/members/user/",
        {
            "action": "grant_membership",
            "_selected_action": [member.pk],
            "apply": "1",
            "tier": vip.pk,
            "days": 30,
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert not Membership.objects.filter(user=member).exists()


def test_reassign_reps_from_the_onboarding_list(admin_client, member, vip):
    buy(member, "VIP")
    onboarding = Onboarding.objects.get(user=member)
    sales = rep(roles.SALES, "新销售")
    response = admin_client.post(
        "/admin/members/onboarding/",
        {
            "action": "reassign_reps",
            "_selected_action": [onboarding.pk],
            "apply": "1",
            "sales_rep": sales.pk,
            "reason": "客户要求",
        },
    )
    assert response.status_code == 302
    onboarding.refresh_from_db()
    assert onboarding.sales_rep == sales


def test_operator_sees_the_member_in_the_funnel_and_stuck_list(admin_client, vip):
    sales, service = rep(roles.SALES, "销售"), rep(roles.CUSTOMER_SERVICE, "客服")
    fresh, stuck = UserFactory(username="fresh"), UserFactory(username="stuck")
    buy(fresh, "VIP")
    buy(stuck, "VIP")
    Onboarding.objects.filter(user=stuck).update(
        stage_since=Onboarding.objects.get(user=stuck).stage_since.replace(year=2020)
    )
    response = admin_client.get("/admin/members/onboarding/funnel/?days=3")
    assert response.status_code == 200
    funnel = {row["key"]: row for row in response.context["funnel"]}
    assert funnel["started"]["reached"] == 2 and funnel["service_group"]["at"] == 2
    assert [o.user.username for o in response.context["stuck"]] == ["stuck"]
    assert "VIP-000002" in response.content.decode()
    assert admin_client.get("/admin/members/onboarding/").status_code == 200
    assert sales and service


def test_funnel_filters_are_validated_by_their_form(admin_client, vip):
    response = admin_client.get("/admin/members/onboarding/funnel/?days=-1&stage=nowhere", follow=True)
    assert response.status_code == 200
    assert response.context["days"] == 3 and response.context["stage"] == ""  # the defaults, as if unfiltered
    assert len(list(response.context["messages"])) == 2  # each field's error is shown


def test_a_sales_rep_sees_only_their_own_members(client, vip):
    sales_a = rep(roles.SALES, "甲", "view_onboarding", "view_user")
    sales_b = rep(roles.SALES, "乙", "view_onboarding", "view_user")
    rep(roles.CUSTOMER_SERVICE, "客服")
    first, second = UserFactory(username="first"), UserFactory(username="second")
    buy(first, "VIP")  # → 甲
    buy(second, "VIP")  # → 乙
    client.force_login(sales_a)
    listed = client.get("/admin/members/onboarding/").context["cl"].result_list
    assert [o.user.username for o in listed] == ["first"]
    users = client.get("/admin/members/user/").context["cl"].result_list
    assert [u.username for u in users] == ["first"]
    assert sales_b


def test_service_group_qr_upload_is_validated(admin_client):
    response = admin_client.post(
        "/admin/members/servicegroup/add/",
        {
            "kind": "big",
            "name": "大群",
            "qr_image": SimpleUploadedFile("qr.png", b"<script>not an image</script>"),
            "is_active": "on",
            "staff_roles-TOTAL_FORMS": "0",
            "staff_roles-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and not ServiceGroup.objects.exists()
    response = admin_client.post(
        "/admin/members/servicegroup/add/",
        {
            "kind": "big",
            "name": "大群",
            "qr_image": SimpleUploadedFile("qr.png", png()),
            "is_active": "on",
            "staff_roles-TOTAL_FORMS": "0",
            "staff_roles-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    group = ServiceGroup.objects.get()
    assert group.qr_valid and group.qr_expires_at is not None


@pytest.mark.parametrize(
    ("item_type", "item_id", "ok"),
    [("membership_days", "VIP:30", True), ("membership_days", "VIP", False), ("membership", "VIP", True)],
)
def test_reward_form_checks_the_item(admin_client, vip, item_type, item_id, ok):
    response = admin_client.post(
        "/admin/members/reward/add/",
        {
            "title": "奖品",
            "description": "",
            "item_type": item_type,
            "item_id": item_id,
            "points_price": 100,
            "per_member_limit": 1,
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert (response.status_code == 302) is ok
    assert Reward.objects.exists() is ok


def test_tier_editor_and_read_only_screens_open(admin_client, member, vip):
    buy(member, "VIP")
    points_award(user=member, amount=5, reason="x", idempotency_key="x")
    notification_send(user=member, kind="x", title="t")
    for url in (
        f"/admin/members/membershiptier/{vip.pk}/change/",
        "/admin/members/membership/",
        f"/admin/members/membership/{Membership.objects.get(user=member).pk}/change/",
        "/admin/members/membershipgrant/",
        "/admin/members/pointsaccount/",
        "/admin/members/pointsentry/",
        "/admin/members/notification/",
        "/admin/members/subscribetemplate/",
        "/admin/members/redemption/",
        "/admin/members/servicegroup/",
        f"/admin/members/user/{member.pk}/change/",
        f"/admin/members/onboarding/{Onboarding.objects.get(user=member).pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_tier_editor_refuses_a_tier_of_zero_days(admin_client):
    # given an operator adding a tier with a typo in its duration
    form = {
        "code": "SVIP",
        "name": "超级会员",
        "price_fen": 990_000,
        "duration_days": 0,
        "rank": 50,
        "benefits": "全部权益",
        "single_purchase_discount_bp": 1500,
        "member_no_prefix": "SVIP",
        "is_active": "on",
    }
    response = admin_client.post("/admin/members/membershiptier/add/", form)

    # then the editor says why and nothing goes on sale (it would take money and grant no days)
    assert response.status_code == 200
    assert "天数须大于 0" in response.content.decode()
    assert not MembershipTier.objects.filter(code="SVIP").exists()

    form["duration_days"] = 365
    assert admin_client.post("/admin/members/membershiptier/add/", form).status_code == 302
    assert MembershipTier.objects.get(code="SVIP").duration_days == 365


def test_the_database_refuses_a_tier_of_zero_days(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipTier.objects.create(code="ZERO", name="零天", price_fen=100, duration_days=0, rank=77)


def test_points_adjustment_by_an_operator_is_audited(admin_client, operator, member):
    points_award(user=member, amount=100, reason="seed", idempotency_key="seed")
    account = member.points_account
    response = admin_client.post(
        "/admin/members/pointsaccount/",
        {
            "action": "adjust_points",
            "_selected_action": [account.pk],
            "apply": "1",
            "amount": -30,
            "reason": "违规扣减",
        },
    )
    assert response.status_code == 302
    assert points_balance(member) == 70
    assert AuditLog.objects.filter(action="points_adjust", actor=operator).exists()


# ---- demo -------------------------------------------------------------------------------------------------


def test_demo_seed_is_idempotent_and_ready_to_try(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.POINTS_SIGNUP_BONUS = 1000  # as config/settings/dev.py gives `make demo`: the 新人礼包
    members_demo.seed(stdout=StringIO(), history=True)
    members_demo.seed(stdout=StringIO(), history=True)
    assert list(
        User.objects.filter(username__in=["sales", "service", "teacher"]).values_list(
            "groups__name", flat=True
        )
    )
    assert ServiceGroup.objects.filter(kind="big").count() == 1
    assert Reward.objects.count() == 2
    assert Onboarding.objects.count() == 4
    funnel = {row["key"]: row for row in onboarding_funnel()}
    assert funnel["done"]["reached"] == 1
    assert len(list(onboarding_stuck(days=3))) == 2
    # each history member's steps are dated from their grant on, the last `stuck_days` ago
    for onboarding in Onboarding.objects.filter(user__username__startswith="demo_"):
        assert onboarding.started_at <= onboarding.stage_since <= timezone.now()
    member = User.objects.get(username="member")
    assert points_balance(member) == 1000 and active_membership(member) is None
    # the new member can buy VIP and is onboarded with the demo reps
    buy(member, "VIP")
    onboarding = Onboarding.objects.get(user=member)
    assert onboarding.sales_rep.username == "sales" and onboarding.service_rep.username == "service"
    assert User.objects.get(pk=member.pk).member_no.startswith("VIP-")
