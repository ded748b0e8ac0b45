"""Four-layer onboarding (四层沉淀): reps by round-robin, service group, self-introduction, big group."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core import roles
from core.errors import ApplicationError
from core.models import AuditLog
from members.models import Onboarding, ServiceGroup, ServiceGroupStaff, validate_qr_image
from members.onboarding.selectors import onboarding_checklist, onboarding_funnel, onboarding_stuck
from members.onboarding.services import (
    onboarding_confirm_big_group,
    onboarding_confirm_service_group,
    onboarding_mark_step,
    onboarding_reassign,
)
from members.profile.selectors import house_nickname
from members.profile.services import profile_update
from tests.factories import UserFactory
from tests.members.conftest import api_for
from tests.members.helpers import buy

INTRO = "大家好，我是张三，在杭州做教育培训十年，希望在这里认识更多同行朋友，一起成长。"


def staff(role: str, name: str):
    user = UserFactory(nickname=name, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def png_bytes(size=(40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def reps(db):
    return {
        "sales": [staff(roles.SALES, "销售甲"), staff(roles.SALES, "销售乙")],
        "service": [staff(roles.CUSTOMER_SERVICE, "客服甲"), staff(roles.CUSTOMER_SERVICE, "客服乙")],
        "teacher": [staff(roles.TEACHER, "讲师甲")],
    }


@pytest.fixture
def big_group(vip):
    group = ServiceGroup.objects.create(kind=ServiceGroup.Kind.BIG, name="知圈会员大群")
    group.qr_image.save("big.png", SimpleUploadedFile("big.png", png_bytes()), save=True)
    return group


def onboarding_of(user) -> Onboarding:
    return Onboarding.objects.select_related("service_group").get(user=user)


def upload_group_qr(onboarding: Onboarding) -> None:
    onboarding.service_group.qr_image.save("qr.png", SimpleUploadedFile("qr.png", png_bytes()), save=True)


def test_first_paid_membership_assigns_reps_round_robin(reps, vip):
    members = [UserFactory() for _ in range(3)]
    for user in members:
        buy(user, "VIP")
    assigned = [(onboarding_of(u).sales_rep.nickname, onboarding_of(u).service_rep.nickname) for u in members]
    assert assigned == [("销售甲", "客服甲"), ("销售乙", "客服乙"), ("销售甲", "客服甲")]
    first = onboarding_of(members[0])
    assert first.reps_assigned_at is not None and first.stage == Onboarding.Stage.SERVICE_GROUP
    roles_in_group = sorted(first.service_group.staff_roles.values_list("role", flat=True))
    assert roles_in_group == ["sales", "service", "teacher"]
    assert first.service_group.name.startswith("VIP-000001")


def test_renewal_does_not_start_onboarding_again(reps, member, vip):
    buy(member, "VIP")
    buy(member, "VIP")
    assert Onboarding.objects.filter(user=member).count() == 1
    assert ServiceGroup.objects.filter(kind=ServiceGroup.Kind.SERVICE).count() == 1


def test_inactive_staff_are_skipped(reps, member, vip):
    reps["sales"][0].is_active = False
    reps["sales"][0].save()
    buy(member, "VIP")
    assert onboarding_of(member).sales_rep == reps["sales"][1]


def test_without_staff_the_member_waits_at_the_reps_step_until_an_operator_assigns(member, vip):
    buy(member, "VIP")
    onboarding = onboarding_of(member)
    assert onboarding.stage == Onboarding.Stage.REPS and onboarding.sales_rep is None
    sales, service = staff(roles.SALES, "新销售"), staff(roles.CUSTOMER_SERVICE, "新客服")
    operator = UserFactory(is_staff=True, is_superuser=True)
    onboarding_reassign(
        onboarding=onboarding, operator=operator, sales_rep=sales, service_rep=service, reason="首次分配"
    )
    onboarding.refresh_from_db()
    assert onboarding.stage == Onboarding.Stage.SERVICE_GROUP and onboarding.reps_assigned_at is not None
    assert set(onboarding.service_group.staff_roles.values_list("user__nickname", "role")) == {
        ("新销售", "sales"),
        ("新客服", "service"),
    }
    assert AuditLog.objects.filter(action="onboarding_reassign", actor=operator).exists()


def test_reassign_moves_the_member_and_the_group_staff(reps, member, vip):
    buy(member, "VIP")
    onboarding = onboarding_of(member)
    operator = UserFactory(is_staff=True)
    onboarding_reassign(onboarding=onboarding, operator=operator, sales_rep=reps["sales"][1], reason="换人")
    onboarding.refresh_from_db()
    assert onboarding.sales_rep == reps["sales"][1]
    assert list(
        ServiceGroupStaff.objects.filter(group=onboarding.service_group, role="sales").values_list(
            "user", flat=True
        )
    ) == [reps["sales"][1].pk]


def test_reassign_refuses_staff_without_the_role(reps, member, vip):
    buy(member, "VIP")
    with pytest.raises(ApplicationError) as excinfo:
        onboarding_reassign(
            onboarding=onboarding_of(member), operator=member, sales_rep=reps["service"][0], reason="x"
        )
    assert excinfo.value.code == "not_a_rep"


def test_service_group_step_needs_the_group_qr_first(reps, member, vip):
    buy(member, "VIP")
    with pytest.raises(ApplicationError) as excinfo:
        onboarding_confirm_service_group(user=member)
    assert excinfo.value.code == "group_not_ready"
    upload_group_qr(onboarding_of(member))
    onboarding = onboarding_confirm_service_group(user=member)
    assert onboarding.service_group_joined_at is not None and onboarding.stage == Onboarding.Stage.INTRO


def test_big_group_only_after_the_self_introduction(reps, member, vip, big_group):
    buy(member, "VIP")
    assert onboarding_of(member).big_group == big_group
    with pytest.raises(ApplicationError) as excinfo:
        onboarding_confirm_big_group(user=member)
    assert excinfo.value.code == "intro_required"
    checklist = onboarding_checklist(member)
    assert checklist["big_group"]["qr_url"] is None  # hidden until the introduction is in
    profile_update(
        user=member,
        real_name="张三",
        city="杭州",
        industry="教育",
        self_introduction=INTRO,
        use_house_nickname=True,
    )
    assert onboarding_checklist(member)["big_group"]["qr_url"]
    upload_group_qr(onboarding_of(member))
    onboarding_confirm_service_group(user=member)
    onboarding = onboarding_confirm_big_group(user=member)
    assert onboarding.stage == Onboarding.Stage.DONE and onboarding.completed_at is not None
    member.refresh_from_db()
    assert member.nickname == "VIP-000001-张三-杭州-教育"


def test_each_step_keeps_its_time_and_the_stage_follows(reps, member, vip):
    buy(member, "VIP")
    profile_update(user=member, real_name="张三", city="杭州", industry="教育", self_introduction=INTRO)
    onboarding = onboarding_of(member)
    # intro done before the service group: the stage stays at the first step not done
    assert onboarding.intro_submitted_at is not None and onboarding.stage == Onboarding.Stage.SERVICE_GROUP


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        (
            {"real_name": "张三", "city": "杭州", "industry": "教育", "self_introduction": "太短了"},
            "self_introduction",
        ),
        ({"real_name": "", "city": "杭州", "industry": "教育", "self_introduction": INTRO}, "real_name"),
        ({"real_name": "张" * 21, "city": "杭州", "industry": "教育"}, "real_name"),
        (
            {"real_name": "张三", "city": "杭州", "industry": "教育", "self_introduction": "介" * 1001},
            "self_introduction",
        ),
    ],
)
def test_profile_refuses_bad_input(member, fields, error_field):
    with pytest.raises(ApplicationError) as excinfo:
        profile_update(user=member, **fields)
    assert error_field in excinfo.value.fields


def test_risky_introduction_is_refused(member):
    with pytest.raises(ApplicationError) as excinfo:
        profile_update(
            user=member,
            real_name="张三",
            city="杭州",
            industry="教育",
            self_introduction=INTRO + "加入我们一起赌博",
        )
    assert excinfo.value.code == "content_rejected"


def test_house_nickname_format(member):
    member.member_no = "VIP-000123"
    assert (
        house_nickname(user=member, real_name="张三", city="杭州", industry="教育")
        == "VIP-000123-张三-杭州-教育"
    )
    member.member_no = None
    assert house_nickname(user=member, real_name="张三", city="", industry="教育") == "张三-教育"


def test_staff_can_mark_a_step_for_the_member(reps, member, vip):
    buy(member, "VIP")
    operator = reps["service"][0]
    onboarding_mark_step(onboarding=onboarding_of(member), step="service_group", operator=operator)
    assert onboarding_of(member).stage == Onboarding.Stage.INTRO
    assert AuditLog.objects.filter(action="onboarding_mark_step", actor=operator).exists()
    with pytest.raises(ApplicationError):
        onboarding_mark_step(onboarding=onboarding_of(member), step="reps", operator=operator)


def test_funnel_and_stuck_list(reps, vip):
    members = [UserFactory() for _ in range(4)]
    for user in members:
        buy(user, "VIP")
    for user in members[:2]:
        upload_group_qr(onboarding_of(user))
        onboarding_confirm_service_group(user=user)
    profile_update(user=members[0], real_name="甲", city="京", industry="IT", self_introduction=INTRO)
    funnel = {row["key"]: row for row in onboarding_funnel()}
    assert funnel["started"]["reached"] == 4
    assert funnel["reps"]["reached"] == 4
    assert funnel["service_group"]["reached"] == 2 and funnel["service_group"]["at"] == 2
    assert funnel["intro"]["reached"] == 1 and funnel["intro"]["at"] == 1
    assert funnel["big_group"]["at"] == 1
    Onboarding.objects.filter(user=members[2]).update(stage_since=timezone.now() - timedelta(days=5))
    stuck = list(onboarding_stuck(days=3))
    assert [o.user for o in stuck] == [members[2]]
    assert list(onboarding_stuck(days=3, stage="intro")) == []


# ---- QR image validation --------------------------------------------------------------------------------


def test_qr_image_accepts_png():
    validate_qr_image(SimpleUploadedFile("qr.png", png_bytes()))


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("qr.png", b"not an image at all"),
        SimpleUploadedFile("qr.png", b"GIF89a" + b"\x00" * 20),
    ],
)
def test_qr_image_refuses_fakes(upload):
    with pytest.raises(ValidationError):
        validate_qr_image(upload)


def test_qr_image_refuses_oversized_files(settings):
    settings.UPLOAD_IMAGE_MAX_BYTES = 100
    with pytest.raises(ValidationError):
        validate_qr_image(SimpleUploadedFile("qr.png", png_bytes()))


def test_qr_image_refuses_gif():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(ValidationError):
        validate_qr_image(SimpleUploadedFile("qr.gif", buffer.getvalue()))


# ---- API -------------------------------------------------------------------------------------------------------


def test_checklist_api_and_step_confirmation(reps, member, vip, big_group):
    client = api_for(member)
    assert client.get("/api/v1/onboarding/").status_code == 404  # not a member yet
    buy(member, "VIP")
    body = client.get("/api/v1/onboarding/").json()
    assert body["stage"] == "service_group"
    assert [s["done"] for s in body["steps"]] == [True, False, False, False]
    assert {s["role"] for s in body["service_group"]["staff"]} == {"销售顾问", "客服", "讲师"}
    response = client.post("/api/v1/onboarding/steps/big_group/confirm/")
    assert response.status_code == 400 and response.json()["code"] == "intro_required"
    assert client.post("/api/v1/onboarding/steps/nope/confirm/").status_code == 404
    response = client.put(
        "/api/v1/me/profile/",
        {
            "real_name": "张三",
            "city": "杭州",
            "industry": "教育",
            "self_introduction": INTRO,
            "use_house_nickname": True,
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["nickname"] == "VIP-000001-张三-杭州-教育"
    body = client.post("/api/v1/onboarding/steps/big_group/confirm/").json()
    assert body["steps"][3]["done"] is True and body["big_group"]["qr_url"].startswith("http://testserver/")


def test_profile_api_validation_errors_have_fields(member):
    response = api_for(member).put(
        "/api/v1/me/profile/",
        {"real_name": "张三", "city": "杭州", "industry": "教育", "self_introduction": "短"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "self_introduction" in response.json()["fields"]
