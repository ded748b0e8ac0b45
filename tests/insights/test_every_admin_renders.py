"""Admin across every app, as operators use it.

- Every registered ModelAdmin (generated from `admin.site._registry`: a new admin without data in
  tests/insights/admin_world.py fails here) renders its changelist, a search, and a change page with
  data present, for a superuser.
- Money records refuse add, change and delete (the page and the permission), and offer no bulk delete.
- Each staff role's permission matrix over the admin: which changelists they may open, which actions
  they see; rows limited to their own (teachers' camps, owners' circles, reps' members).
- Audit rows written by a refund, a withdrawal approval, a membership grant, a post feature and
  configuration edits; personal data masked on the pages.

The world is built once per module inside an outer transaction (each test runs in a savepoint).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.insights import admin_world
from tests.insights.admin_world import client_for


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """tests/insights/admin_world.py: a row behind every admin, two of each staff role."""
    with admin_world.built_for_module(django_db_blocker, tmp_path_factory) as world:
        yield world


@pytest.fixture(autouse=True)
def _sandbox_on(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"


REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
LABELS = [model._meta.label for model, _ma in REGISTRY]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# ---- every admin renders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=LABELS)
def test_every_admin_renders_its_changelist_search_and_change_page_with_data(world, db, model, model_admin):
    client = client_for(world.staff["superuser"])
    changelist = client.get(_url(model, "changelist"), follow=True)
    assert changelist.status_code == 200
    request = changelist.wsgi_request
    queryset = model_admin.get_queryset(request)
    obj = queryset.order_by("pk").first()
    assert obj is not None, f"admin_world.build() makes no {model._meta.label}: add one"
    if model_admin.get_search_fields(request):
        assert client.get(_url(model, "changelist"), {"q": "测试 x"}, follow=True).status_code == 200
    if model_admin.date_hierarchy:
        assert client.get(
            _url(model, "changelist"), {f"{model_admin.date_hierarchy}__year": 2026}
        ).status_code in (
            200,
            302,
        )
    change = client.get(_url(model, "change", obj.pk))
    assert change.status_code == 200, (model._meta.label, change.status_code)


# ---- money records are facts ---------------------------------------------------------------------------

MONEY_RECORDS = [
    "payments.Order",
    "payments.Payment",
    "payments.PaymentNotification",
    "payments.Refund",
    "payments.ReconciliationRun",
    "payments.Account",
    "payments.Transaction",
    "payments.Earning",
    "payments.SettlementRun",
    "payments.LedgerCheckRun",
    "payments.Withdrawal",
    "payments.SandboxTransfer",
    "members.Membership",
    "members.MembershipGrant",
    "members.PointsAccount",
    "members.PointsEntry",
    "members.Redemption",
    "members.Notification",
    "referrals.Commission",
    "referrals.GroupBuy",
    "referrals.StaffShareMonth",
    "referrals.StaffShareStatement",
    "referrals.StaffShareAdjustment",
    "referrals.StaffShareOverride",
    "circles.TipIntent",
    "circles.PaidQuestion",
    "circles.CircleMembershipEvent",
    "core.AuditLog",
]
ADMINS = {model._meta.label: (model, model_admin) for model, model_admin in REGISTRY}


def _request(user, path="/admin/"):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize("label", MONEY_RECORDS)
def test_money_records_refuse_add_change_and_delete_even_for_a_superuser(world, db, label):
    model, model_admin = ADMINS[label]
    root = world.staff["superuser"]
    request = _request(root)
    obj = model_admin.get_queryset(request).order_by("pk").first()
    before = model._default_manager.count()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)
    for inline in model_admin.get_inline_instances(request, obj):
        assert not inline.has_add_permission(request, obj) and not inline.has_delete_permission(request, obj)
    client = client_for(root)
    assert client.get(_url(model, "add")).status_code == 403
    assert client.post(_url(model, "change", obj.pk), {}).status_code == 403
    assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    page = client.get(_url(model, "change", obj.pk)).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page  # a view, no save button
    assert model._default_manager.count() == before and model._default_manager.filter(pk=obj.pk).exists()


# ---- who sees which changelist ---------------------------------------------------------------------------

BUSINESS_APPS = {
    "core",
    "payments",
    "members",
    "courses",
    "circles",
    "referrals",
    "growth",
    "insights",
    "django_celery_beat",
}
FINANCE_SEES = {
    *(label for label in ADMINS if label.startswith("payments.")),
    "core.AuditLog",
    "members.User",
    "members.Membership",
    "members.MembershipGrant",
    "members.MembershipTier",
    "members.PointsAccount",
    "referrals.Commission",
    "referrals.Promoter",
    "referrals.ReferralBinding",
    "referrals.GroupBuy",
    "growth.RedeemCodeBatch",
    "growth.RedeemCode",
    "growth.FlashSale",
    "growth.FlashSaleHold",
    "growth.Coupon",
    "growth.MemberCoupon",
    "growth.CouponRedemption",
    "referrals.StaffShareBracket",
    "referrals.StaffShareMonth",
    "referrals.StaffShareStatement",
    "referrals.StaffShareAdjustment",
    "referrals.StaffShareOverride",
    "referrals.SalesTeam",
    "circles.TipIntent",
    "circles.PaidQuestion",
    "insights.OperationsReport",
}
TEACHER_SEES = {
    "courses.Course",
    "courses.CourseEnrolment",
    "courses.LessonProgress",
    "courses.Event",
    "courses.EventRegistration",
    "courses.Camp",
    "courses.Term",
    "courses.TermSeat",
    "courses.CheckIn",
    "courses.CheckInModeration",
    "courses.MediaAsset",  # their own uploads
    "courses.Quiz",
    "courses.QuizQuestion",
    "courses.QuizAttempt",
    "courses.Homework",
    "courses.HomeworkSubmission",
    "courses.CourseCompletion",
}
OWNER_SEES = {
    "circles.Circle",
    "circles.CircleMembership",
    "circles.CircleMembershipEvent",
    "circles.Post",
    "circles.Comment",
    "circles.TipIntent",
    "circles.PaidQuestion",
}
SALES_SEES = {
    "members.User",
    "members.Membership",
    "members.MembershipGrant",
    "members.Onboarding",
    "referrals.ReferralBinding",
    "referrals.SalesLead",
}
SERVICE_SEES = {"members.User", "members.Membership", "members.Onboarding", "members.ServiceGroup"}
SEES = {
    "superuser": set(ADMINS),
    # operators see the whole business (read-only where money is concerned), not auth/social accounts
    "operator": {label for label in ADMINS if label.split(".")[0] in BUSINESS_APPS},
    "finance": FINANCE_SEES,
    "teacher": TEACHER_SEES,
    "owner": OWNER_SEES,
    "sales": SALES_SEES,
    "service": SERVICE_SEES,
    "staff_no_role": set(),
}


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_opens_exactly_its_changelists(world, db, who):
    client = client_for(world.staff[who])
    opened, refused = set(), set()
    for label, (model, _model_admin) in ADMINS.items():
        status = client.get(_url(model, "changelist")).status_code
        assert status in (200, 302, 403), (label, status)  # 302: a singleton settings page
        (opened if status in (200, 302) else refused).add(label)
    assert opened == SEES[who], {"unexpected": opened - SEES[who], "missing": SEES[who] - opened}


def test_a_plain_member_is_sent_to_the_admin_login(world, db):
    response = client_for(world.members["alice"]).get(reverse("admin:payments_order_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# ---- who sees which action -------------------------------------------------------------------------------

MONEY_ACTIONS = {
    "payments.Order": {"refund_full"},
    "payments.Withdrawal": {"approve_selected", "sync_selected", "cancel_unconfirmed_selected"},
    "referrals.GroupBuy": {"run_sweep"},
}
OPERATOR_ACTIONS = {
    "members.User": {"grant_membership", "tag_members", "untag_members", "issue_coupon"},
    "members.Membership": {"extend_memberships"},
    "members.MembershipGrant": {"revoke_grants"},
    "members.PointsAccount": {"adjust_points"},
    "members.Onboarding": {"reassign_reps", "mark_service_group", "mark_big_group"},
    "courses.CheckIn": {"approve", "reject"},
    "courses.CheckInModeration": {"approve", "reject"},
    "courses.Event": {"export_attendance"},
    "courses.EventRegistration": {"check_in"},
    "circles.Post": {
        "approve",
        "reject",
        "feature",
        "unfeature",
        "pin",
        "unpin",
        "publish_now",
        "cancel_schedule",
    },
    "circles.Comment": {"approve", "reject"},
    "circles.CircleMembership": set(),  # member actions are the circle managers'
    "referrals.Promoter": {"block", "unblock"},
    "referrals.ReferralBinding": {"end_bindings"},
}
ACTIONS = {
    "operator": {**OPERATOR_ACTIONS, **{label: set() for label in MONEY_ACTIONS}},
    "finance": {
        **MONEY_ACTIONS,
        "members.User": set(),
        "members.Membership": set(),
        "members.MembershipGrant": set(),
        "members.PointsAccount": set(),
        "referrals.Promoter": set(),
        "referrals.ReferralBinding": set(),
    },
    "teacher": {
        "courses.CheckIn": {"approve", "reject"},
        "courses.CheckInModeration": {"approve", "reject"},
        "courses.Event": {"export_attendance"},
        "courses.EventRegistration": set(),
        "courses.MediaAsset": {"transcode_again"},
    },
    "owner": {
        "circles.Post": {
            "approve",
            "reject",
            "feature",
            "unfeature",
            "pin",
            "unpin",
            "publish_now",
            "cancel_schedule",
        },
        "circles.Comment": {"approve", "reject"},
        "circles.CircleMembership": {
            "promote_guest",
            "remove_without_refund",  # removing with a refund needs the money role too
            "allow_rejoin",
        },
    },
    "sales": {
        "members.User": set(),
        "members.Membership": set(),
        "members.MembershipGrant": set(),
        "members.Onboarding": {"mark_service_group", "mark_big_group"},
        "referrals.ReferralBinding": set(),
    },
    "service": {"members.User": set(), "members.Onboarding": {"mark_service_group", "mark_big_group"}},
}


@pytest.mark.parametrize("who", list(ACTIONS))
def test_each_role_sees_only_the_actions_it_may_take(world, db, who):
    request = _request(world.staff[who])
    for label, expected in ACTIONS[who].items():
        _model, model_admin = ADMINS[label]
        actions = set(model_admin.get_actions(request)) - {"delete_selected"}
        assert actions == expected, (who, label, actions)


def test_money_actions_follow_one_rule_the_finance_group_not_a_stray_permission(world, db):
    from django.contrib.auth.models import Group, Permission

    from core.roles import FINANCE, is_money_operator

    # setup_roles grants money write permissions to 财务 only
    for group in Group.objects.filter(name__in=admin_world.ROLE_OF.values()):
        writes = group.permissions.filter(content_type__app_label="payments").exclude(
            codename__startswith="view_"
        )
        assert writes.exists() == (group.name == FINANCE), group.name
    # an operator handed the model permissions by hand still cannot move money
    operator = world.staff["operator"]
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_order", "change_withdrawal", "add_ledgercheckrun"])
    )
    operator = type(operator).objects.get(pk=operator.pk)  # fresh permission cache
    assert operator.has_perm("payments.change_order") and not is_money_operator(operator)
    request = _request(operator)
    for label in MONEY_ACTIONS:
        assert not set(ADMINS[label][1].get_actions(request)) & MONEY_ACTIONS[label], label
    order, withdrawal = world.objects["vip_order"], world.objects["withdrawal"]
    client = client_for(operator)
    assert client.get(reverse("admin:payments_order_refund", args=[order.pk])).status_code == 403
    assert client.post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk])).status_code == 403
    assert client.post(reverse("admin:payments_ledgercheckrun_run")).status_code == 403
    assert client.post(reverse("admin:referrals_staffsharemonth_close")).status_code == 403
    refund_url = reverse("admin:payments_order_refund", args=[order.pk])
    change = client.get(reverse("admin:payments_order_change", args=[order.pk])).content.decode()
    assert refund_url not in change  # no refund button either
    queue = client.get(reverse("admin:payments_withdrawal_change", args=[withdrawal.pk])).content.decode()
    assert "/approve/" not in queue
    assert (
        "立即检查账本" not in client.get(reverse("admin:payments_ledgercheckrun_changelist")).content.decode()
    )
    # and finance sees all of it
    finance = client_for(world.staff["finance"])
    assert refund_url in finance.get(reverse("admin:payments_order_change", args=[order.pk])).content.decode()
    assert (
        "/approve/"
        in finance.get(reverse("admin:payments_withdrawal_change", args=[withdrawal.pk])).content.decode()
    )
    assert "立即检查账本" in finance.get(reverse("admin:payments_ledgercheckrun_changelist")).content.decode()


# ---- own rows only ---------------------------------------------------------------------------------------


def _listed(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_teachers_see_their_own_courses_camps_and_moderation_queue_only(world, db):
    teacher = client_for(world.staff["teacher"])
    courses = _listed(teacher, reverse("admin:courses_course_changelist"))
    assert "老师一的课" in courses and "老师二的课" not in courses
    camps = _listed(teacher, reverse("admin:courses_camp_changelist"))
    assert "老师一的营" in camps and "老师二的营" not in camps
    media = _listed(teacher, reverse("admin:courses_mediaasset_changelist"))
    mine, theirs = (f"{world.staff[who].nickname}的视频" for who in ("teacher", "teacher2"))
    assert mine in media and theirs not in media
    queue = teacher.get(reverse("admin:courses_checkinmoderation_changelist"))
    assert queue.status_code == 200  # was 403: teachers had no permission on the moderation queue
    shown = {c.pk for c in queue.context["cl"].result_list}
    assert shown == {world.objects["held_checkin_own"].pk}
    other = world.objects["held_checkin"]
    teacher.post(
        reverse("admin:courses_checkinmoderation_changelist"),
        {"action": "approve", "_selected_action": [other.pk]},
    )
    other.refresh_from_db()
    assert other.status == "review"  # not theirs to approve
    own = world.objects["held_checkin_own"]
    teacher.post(
        reverse("admin:courses_checkinmoderation_changelist"),
        {"action": "approve", "_selected_action": [own.pk]},
    )
    own.refresh_from_db()
    assert own.status == "visible"
    assert teacher.get(reverse("courses:review_queue")).status_code == 200  # the 点评 queue (a page)


def test_a_camp_reviewer_sees_that_camps_check_ins(world, db):
    camp2 = world.objects["camp2"]
    camp2.reviewers.add(world.staff["teacher"])
    queue = client_for(world.staff["teacher"]).get(reverse("admin:courses_checkinmoderation_changelist"))
    assert world.objects["held_checkin"].pk in {c.pk for c in queue.context["cl"].result_list}


def test_a_teacher_cannot_hand_a_course_to_someone_else(world, db):
    from courses.models import Course

    teacher, other = world.staff["teacher"], world.staff["teacher2"]
    client = client_for(teacher)
    response = client.post(
        reverse("admin:courses_course_add"),
        {
            "title": "新课",
            "summary": "",
            "description": "",
            "teacher": other.pk,
            "price_fen": 0,
            "sort_order": 0,
            "complete_at_percent": 90,
            "lessons-TOTAL_FORMS": 0,
            "lessons-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Course.objects.get(title="新课").teacher == teacher
    page = client.get(
        reverse("admin:courses_course_change", args=[world.objects["course"].pk])
    ).content.decode()
    assert 'name="teacher"' not in page


def test_circle_owners_see_only_their_circles_rows(world, db):
    owner = client_for(world.staff["owner"])
    posts = owner.get(reverse("admin:circles_post_changelist")).context["cl"].result_list
    assert {p.pk for p in posts} == {world.objects["post"].pk}
    memberships = owner.get(reverse("admin:circles_circlemembership_changelist")).context["cl"].result_list
    assert {m.circle_id for m in memberships} == {world.objects["circle"].pk}
    other_post = world.objects["post2"]
    assert owner.get(reverse("admin:circles_post_change", args=[other_post.pk])).status_code in (302, 404)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("sales", {"alice"}), ("sales2", {"bob", "dave"}), ("service", {"alice"}), ("operator", None)],
)
def test_sales_and_service_reps_see_only_the_members_assigned_to_them(world, db, who, expected):
    client = client_for(world.staff[who])
    users = {
        u.username for u in client.get(reverse("admin:members_user_changelist")).context["cl"].result_list
    }
    members = set(world.members)
    if expected is None:  # operators: everyone
        assert members <= users
        return
    assert users == expected
    memberships = client.get(reverse("admin:members_membership_changelist")).context["cl"].result_list
    assert {m.user.username for m in memberships} <= expected
    other = world.members["carol"]
    assert client.get(reverse("admin:members_user_change", args=[other.pk])).status_code in (302, 404)
    if who.startswith("sales"):
        grants = client.get(reverse("admin:members_membershipgrant_changelist")).context["cl"].result_list
        assert {g.user.username for g in grants} <= expected
        bindings = client.get(reverse("admin:referrals_referralbinding_changelist")).context["cl"].result_list
        assert {b.user.username for b in bindings} == expected & {"dave"}


# ---- audit rows of operator actions ----------------------------------------------------------------------


def _audit(action: str):
    from core.models import AuditLog

    return AuditLog.objects.filter(action=action).order_by("-pk").first()


def test_a_refund_from_admin_is_audited(world, db, django_capture_on_commit_callbacks):
    order, finance = world.objects["vip_order"], world.staff["finance"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(finance).post(
            reverse("admin:payments_order_refund", args=[order.pk]),
            {"amount_yuan": "10", "reason": "客户申请"},
        )
    assert response.status_code == 302
    row = _audit("order_refund")
    assert row.actor == finance and row.target_id == str(order.pk) and row.details["amount_fen"] == 1_000
    assert row.details["reason"] == "客户申请"
    log = client_for(world.staff["operator"]).get(reverse("admin:core_auditlog_changelist")).content.decode()
    assert "order_refund" in log and reverse("admin:payments_order_change", args=[order.pk]) in log


def test_a_withdrawal_approval_from_admin_is_audited(world, db, django_capture_on_commit_callbacks):
    withdrawal, finance = world.objects["bank_withdrawal"], world.staff["finance"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(finance).post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]))
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved"
    row = _audit("withdrawal_approve")
    assert row.actor == finance and row.target_id == str(withdrawal.pk) and row.details["amount_fen"] == 3_000


def test_a_membership_grant_from_admin_is_audited(world, db):
    from members.models import Membership

    operator, bob = world.staff["operator"], world.members["bob"]
    before = Membership.objects.get(user=bob).ends_at
    response = client_for(operator).post(
        reverse("admin:members_user_changelist"),
        {
            "action": "grant_membership",
            "_selected_action": [bob.pk],
            "apply": "1",
            "tier": world.objects["tier"].pk,
            "days": 30,
            "reason": "活动补偿",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=bob).ends_at > before
    row = _audit("membership_grant")
    assert row.actor == operator and row.details["user_id"] == bob.pk and row.details["reason"] == "活动补偿"


@pytest.mark.parametrize("who", ["operator", "owner"])
def test_featuring_a_post_from_admin_is_audited(world, db, who):
    post, actor = world.objects["post"], world.staff[who]
    client_for(actor).post(
        reverse("admin:circles_post_changelist"), {"action": "feature", "_selected_action": [post.pk]}
    )
    post.refresh_from_db()
    assert post.is_featured
    row = _audit("circle_post_flags")
    assert row.actor == actor and row.target_id == str(post.pk) and row.details["featured"] is True


def _bound_values(form, prefix_fields=True) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[form.add_prefix(name) if prefix_fields else name] = "on" if value is True else value
    return data


def _form_data(page, **changes) -> dict:
    """The POST data of an admin change form as the browser would send it, with `changes` applied."""
    data = _bound_values(page.context["adminform"].form, prefix_fields=False)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form in formset.initial_forms:
            data.update(_bound_values(form))
    data.update(changes)
    return data


def test_configuration_edits_that_move_money_are_audited(world, db):
    from members.models import MembershipTier
    from payments.models import ReconciliationMismatch, WithdrawalSettings

    tier = world.objects["tier"]
    operator, finance = client_for(world.staff["operator"]), client_for(world.staff["finance"])
    url = reverse("admin:members_membershiptier_change", args=[tier.pk])
    response = operator.post(url, _form_data(operator.get(url), price_fen=299_900))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert MembershipTier.objects.get(pk=tier.pk).price_fen == 299_900
    row = _audit("members.membershiptier_change")
    assert row.actor == world.staff["operator"] and list(row.details["changed"]) == ["price_fen"]
    assert row.details["changed"]["price_fen"] == {"from": 360_000, "to": 299_900}

    mismatch = world.objects["mismatch"]
    url = reverse("admin:payments_reconciliationmismatch_change", args=[mismatch.pk])
    assert operator.post(url, {"resolved": "on"}).status_code == 403  # operators may look, not resolve
    assert finance.post(url, {"resolved": "on"}).status_code == 302
    assert ReconciliationMismatch.objects.get(pk=mismatch.pk).resolved
    row = _audit("reconciliation_mismatch_change")
    assert row.actor == world.staff["finance"] and row.details["changed"]["resolved"] == {
        "from": False,
        "to": True,
    }

    conf = WithdrawalSettings.current()
    url = reverse("admin:payments_withdrawalsettings_change", args=[conf.pk])
    assert operator.post(url, {}).status_code == 403
    response = finance.post(url, _form_data(finance.get(url), dual_approval_threshold_fen=123_400))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    row = _audit("payments.withdrawalsettings_change")
    assert row.details["changed"] == {
        "dual_approval_threshold_fen": {"from": conf.dual_approval_threshold_fen, "to": 123_400}
    }


# ---- personal data ----------------------------------------------------------------------------------------


def test_personal_data_is_masked_and_a_full_phone_number_finds_the_member(world, db):
    client = client_for(world.staff["operator"])
    users = _listed(client, reverse("admin:members_user_changelist"))
    assert "138****5678" in users and "13812345678" not in users
    found = (
        client.get(reverse("admin:members_user_changelist"), {"q": "138 1234 5678"}).context["cl"].result_list
    )
    assert [u.username for u in found] == ["alice"]
    queue = _listed(client, reverse("admin:payments_withdrawal_changelist"))
    assert "王*" in queue and "王小明" not in queue
    detail = _listed(
        client, reverse("admin:payments_withdrawal_change", args=[world.objects["bank_withdrawal"].pk])
    )
    assert "6225 **** **** 6789" in detail and "6225880123456789" not in detail
    identities = _listed(client, reverse("admin:core_wechatidentity_changelist"))
    assert "o6_b***L2M" in identities and "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" not in identities
    found = client.get(reverse("admin:core_wechatidentity_changelist"), {"q": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"})
    assert len(found.context["cl"].result_list) == 1
    payment = world.objects["vip_order"].payments.get()
    type(payment).objects.filter(pk=payment.pk).update(payer_openid="oPAYERopenid1234567")
    page = _listed(client, reverse("admin:payments_payment_change", args=[payment.pk]))
    assert "oPAY***567" in page and "oPAYERopenid1234567" not in page


def test_access_granted_by_hand_is_audited(world, db):
    from courses.models import CourseEnrolment

    operator, course, carol = world.staff["operator"], world.objects["course"], world.members["carol"]
    response = client_for(operator).post(
        reverse("admin:courses_courseenrolment_add"),
        {"course": course.pk, "user": carol.pk, "source": "grant", "status": "active"},
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    enrolment = CourseEnrolment.objects.get(course=course, user=carol)
    row = _audit("courses.courseenrolment_add")
    assert row.actor == operator and row.target_id == str(enrolment.pk)


def test_only_superusers_manage_staff_accounts_groups_and_passwords(world, db):
    from django.contrib.auth.models import Group

    operator, finance, alice = world.staff["operator"], world.staff["finance"], world.members["alice"]
    client = client_for(operator)
    for staff_user in (finance, operator):  # staff accounts: a read-only view, no save
        url = reverse("admin:members_user_change", args=[staff_user.pk])
        assert 'name="_save"' not in client.get(url).content.decode()
        assert (
            client.post(url, {"username": staff_user.username, "email": "x@example.com"}).status_code == 403
        )
    assert client.get(reverse("admin:auth_user_password_change", args=[alice.pk])).status_code == 403
    url = reverse("admin:members_user_change", args=[alice.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    assert not {"groups", "is_superuser", "is_staff", "user_permissions"} & set(form.fields)
    assert form.fields["password"].disabled  # Django's read-only hash field, not shown in the fieldsets
    assert "../password/" not in page.content.decode()  # no link to the password form
    finance_group = Group.objects.get(name=admin_world.ROLE_OF["finance"])
    response = client.post(
        url, _form_data(page, nickname="爱丽丝2", groups=[finance_group.pk], is_staff="on")
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert alice.nickname == "爱丽丝2" and not alice.is_staff and not alice.groups.exists()
    # a superuser may
    root = client_for(world.staff["superuser"])
    assert root.get(reverse("admin:auth_user_password_change", args=[alice.pk])).status_code == 200
