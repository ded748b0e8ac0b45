"""Redeem codes (兑换码): an operator makes a batch for a company, exports it, members redeem codes on
the web and through the API, and nothing a code gives can be had twice, guessed or kept after revoking."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import ApplicationError
from core.models import AuditLog
from courses.models import CourseEnrolment
from growth.models import RedeemCode, RedeemCodeBatch
from growth.redeem_codes import services
from members.memberships.selectors import active_membership
from payments.models import Order
from tests.courses.factories import make_course, vip_tier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def vip_batch(operator):
    vip_tier()
    return services.batch_create(
        name="星河科技 VIP",
        item_type="membership",
        item_id="VIP",
        size=5,
        expires_at=timezone.now() + timedelta(days=30),
        created_by=operator,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def redeem(user, code: str):
    return api(user).post("/api/v1/redeem-codes/redeem/", {"code": code}, format="json")


# ---- making a batch ---------------------------------------------------------------------------------------


def test_a_batch_has_unguessable_unique_codes_and_is_audited(vip_batch, operator):
    codes = list(vip_batch.codes.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 5
    for code in codes:
        assert len(code) == services.CODE_LENGTH and set(code) <= set(services.ALPHABET)
    assert not {"0", "O", "1", "I", "L"} & set("".join(codes))  # nothing to misread on paper
    # Not sequential: no two codes share a prefix longer than chance allows.
    ordered = sorted(codes)
    assert all(a[:6] != b[:6] for a, b in zip(ordered, ordered[1:], strict=False))
    assert vip_batch.item_title.startswith("开通VIP")
    log = AuditLog.objects.get(action="growth.redeem_batch_create")
    assert log.actor == operator and log.details["size"] == 5


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"item_type": "tip", "item_id": "1"}, "item_not_redeemable"),
        ({"item_type": "course", "item_id": "999999"}, "item_unavailable"),
        ({"size": 0}, "batch_size_invalid"),
        ({"size": services.MAX_BATCH_SIZE + 1}, "batch_size_invalid"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "batch_expiry_past"),
        ({"name": "  "}, "batch_name_required"),
    ],
)
def test_a_batch_for_nothing_sellable_is_refused_and_makes_nothing(operator, fields, code):
    vip_tier()
    arguments = {
        "name": "批次",
        "item_type": "membership",
        "item_id": "VIP",
        "size": 3,
        "expires_at": timezone.now() + timedelta(days=1),
        "created_by": operator,
        **fields,
    }
    with pytest.raises(ApplicationError) as refused:
        services.batch_create(**arguments)
    assert refused.value.code == code
    assert not RedeemCodeBatch.objects.exists() and not RedeemCode.objects.exists()


def test_the_command_prints_the_batch_as_csv_with_a_code_column(operator):
    course = make_course(title="私域增长实战")
    out = io.StringIO()
    call_command(
        "redeem_codes_create",
        "--item-type=course",
        f"--item-id={course.pk}",
        "--count=3",
        "--batch=某某公司",
        f"--operator={operator.username}",
        stdout=out,
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 3 and {row["item"] for row in rows} == {"课程「私域增长实战」"}
    stored = {code.display for code in RedeemCode.objects.all()}
    assert {row["code"] for row in rows} == stored and all(row["state"] == "未兑换" for row in rows)


# ---- redeeming ---------------------------------------------------------------------------------------------


def test_a_member_redeems_a_code_and_holds_the_item_through_a_zero_amount_order(vip_batch):
    member = UserFactory()
    code = vip_batch.codes.first()
    typed = code.display.lower().replace("-", " ")  # as read from paper: spaces, lower case
    response = redeem(member, typed)
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert set(answer) == {"order_no", "item_type", "item_id"}  # API.md row 12, exactly
    assert (answer["item_type"], answer["item_id"]) == ("membership", "VIP")
    order = Order.objects.get(order_no=answer["order_no"])
    assert order.status == Order.Status.PAID and order.amount_fen == 0 and order.channel == "redeem_code"
    assert active_membership(member).tier.code == "VIP"
    code.refresh_from_db()
    assert code.redeemed_by == member and code.order == order
    # The member's retry (the answer was lost) gets the same redemption, not a second membership.
    again = redeem(member, code.display)
    assert again.status_code == 200 and again.json()["order_no"] == order.order_no
    assert Order.objects.filter(user=member).count() == 1


def test_unknown_used_revoked_and_expired_codes_get_one_answer(vip_batch, operator):
    first, revoked, expired_batch_code, *_rest = vip_batch.codes.all()
    assert redeem(UserFactory(), first.code).status_code == 200
    services.code_revoke(code=revoked, operator=operator)
    later = services.batch_create(
        name="过期批次",
        item_type="membership",
        item_id="VIP",
        size=1,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    RedeemCodeBatch.objects.filter(pk=later.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = later.codes.get()
    answers = [
        redeem(UserFactory(), candidate)
        for candidate in ("ABCD-EFGH-JKMN", "not a code", first.code, revoked.code, expired.code)
    ]
    assert {a.status_code for a in answers} == {400}
    assert {a.json()["code"] for a in answers} == {"redeem_code_invalid"}
    assert len({a.json()["message"] for a in answers}) == 1  # the same words: nothing to learn from
    assert Order.objects.count() == 1


def test_one_code_per_member_per_batch(vip_batch):
    member = UserFactory()
    first, second, *_rest = vip_batch.codes.all()
    assert redeem(member, first.code).status_code == 200
    response = redeem(member, second.code)
    assert response.status_code == 409 and response.json()["code"] == "redeem_code_batch_used"
    second.refresh_from_db()
    assert second.redeemed_by is None  # still there for a colleague
    assert redeem(UserFactory(), second.code).status_code == 200


def test_an_item_the_member_cannot_take_leaves_the_code_unused(operator):
    course = make_course()
    batch = services.batch_create(
        name="课程批次",
        item_type="course",
        item_id=str(course.pk),
        size=2,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    member = UserFactory()
    first, second = batch.codes.all()
    assert redeem(member, first.code).status_code == 200
    assert CourseEnrolment.objects.filter(user=member, course=course).count() == 1
    other_batch = services.batch_create(
        name="同一课程另一批",
        item_type="course",
        item_id=str(course.pk),
        size=1,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    refused = redeem(member, other_batch.codes.get().code)  # already holds the course
    assert refused.status_code >= 400 and refused.json()["code"] != "redeem_code_invalid"
    assert other_batch.codes.get().redeemed_by is None


def test_revoking_a_batch_ends_its_unused_codes_and_keeps_what_was_redeemed(vip_batch, operator):
    member = UserFactory()
    used = vip_batch.codes.first()
    assert redeem(member, used.code).status_code == 200
    assert services.batch_revoke(batch=vip_batch, operator=operator) == 4
    assert redeem(UserFactory(), vip_batch.codes.exclude(pk=used.pk).first().code).status_code == 400
    assert active_membership(member) is not None  # a redeemed code's item stays, as a sold item does
    assert AuditLog.objects.filter(action="growth.redeem_batch_revoke", actor=operator).exists()


def test_guessing_is_throttled(vip_batch, throttle_rates):
    throttle_rates(redeem_code="3/min")
    member = UserFactory()
    statuses = [redeem(member, f"ABCD-EFGH-JKM{n}").status_code for n in range(2, 7)]
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]


def test_the_redeem_page_takes_a_code_and_opens_what_it_gave(client, operator):
    course = make_course(title="私域增长实战")
    batch = services.batch_create(
        name="课程批次",
        item_type="course",
        item_id=str(course.pk),
        size=1,
        expires_at=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    client.force_login(UserFactory())
    assert client.get("/growth/redeem/").status_code == 200
    wrong = client.post("/growth/redeem/", {"code": "ABCD-EFGH-JKMN"})
    assert wrong.status_code == 400 and "兑换码无效" in wrong.content.decode()
    response = client.post("/growth/redeem/", {"code": batch.codes.get().display}, follow=True)
    assert response.redirect_chain[-1][0] == f"/courses/{course.pk}/"
    assert "兑换成功：" in response.content.decode()
    again = client.post("/growth/redeem/", {"code": batch.codes.get().display}, follow=True).content.decode()
    assert "这个兑换码你已兑换过" in again and "兑换成功：" not in again


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/growth/redeem/").status_code == 302
    assert APIClient().post("/api/v1/redeem-codes/redeem/", {"code": "X"}, format="json").status_code == 401


# ---- admin ---------------------------------------------------------------------------------------------------


def test_an_operator_makes_a_batch_in_admin_and_exports_it(client, operator):
    vip_tier()
    client.force_login(operator)
    expires = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%d")
    response = client.post(
        "/admin/growth/redeemcodebatch/add/",
        {
            "name": "星河科技 VIP",
            "item_type": "membership",
            "item_id": "VIP",
            "size": "50",
            "expires_at_0": expires,
            "expires_at_1": "23:59:00",
            "note": "合同 2026-118",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    batch = RedeemCodeBatch.objects.get()
    assert batch.codes.count() == 50 and batch.created_by == operator
    export = client.post(
        "/admin/growth/redeemcodebatch/", {"action": "export_csv", "_selected_action": [batch.pk]}
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 50 and rows[0]["code"].count("-") == 2
    wrong = client.post(
        "/admin/growth/redeemcodebatch/add/",
        {
            "name": "x",
            "item_type": "course",
            "item_id": "999999",
            "size": "5",
            "expires_at_0": expires,
            "expires_at_1": "23:59:00",
        },
    )
    assert wrong.status_code == 200 and RedeemCodeBatch.objects.count() == 1  # a form error, nothing made
    listing = client.get("/admin/growth/redeemcode/", {"q": rows[0]["code"]}).content.decode()
    assert rows[0]["code"] in listing


def test_the_demo_batch_is_made_once_and_its_printed_code_works():
    from sampledata.demo import growth as demo_growth

    vip_tier()
    UserFactory(username="operator", is_staff=True, is_superuser=True)
    first, second = io.StringIO(), io.StringIO()
    demo_growth.seed(stdout=first)
    # The seed writes through the command's OutputWrapper (one line per write); here they run together.
    printed = first.getvalue().split("/growth/redeem/: ", 1)[1].split("growth:", 1)[0].strip()
    assert redeem(UserFactory(), printed).status_code == 200
    demo_growth.seed(stdout=second)
    assert RedeemCodeBatch.objects.filter(name=demo_growth.BATCH_NAME).count() == 1
    assert printed not in second.getvalue()  # the next run offers a code still unused


def test_a_redeemed_code_s_order_has_no_money_to_refund_and_the_code_stays_used(vip_batch, operator):
    """The payment behind a redeemed item is the company's, offline: the zero-amount order refunds
    nothing, by the member or by finance, and the code is not freed for a second person."""
    from payments.orders.refunds import refund_request

    member = UserFactory()
    code = vip_batch.codes.first()
    order_no = redeem(member, code.code).json()["order_no"]
    order = Order.objects.get(order_no=order_no)
    refused = api(member).post(f"/api/v1/orders/{order_no}/refund/", {"reason": "x"}, format="json")
    assert refused.status_code in (400, 409)
    with pytest.raises(ApplicationError):
        refund_request(order=order, amount_fen=None, reason="运营", requested_by=operator, self_service=False)
    order.refresh_from_db()
    code.refresh_from_db()
    assert order.status == Order.Status.PAID and order.refunded_fen == 0
    assert code.redeemed_by == member and active_membership(member) is not None
    assert redeem(UserFactory(), code.code).json()["code"] == "redeem_code_invalid"


def test_staff_who_may_only_view_batches_cannot_make_or_revoke_one(client, vip_batch):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_redeemcodebatch", "view_redeemcode"])
    )
    client.force_login(viewer)
    assert client.get("/admin/growth/redeemcodebatch/").status_code == 200
    assert client.get("/admin/growth/redeemcodebatch/add/").status_code == 403
    client.post(
        "/admin/growth/redeemcodebatch/", {"action": "revoke_selected", "_selected_action": [vip_batch.pk]}
    )
    vip_batch.refresh_from_db()
    assert vip_batch.revoked_at is None and not vip_batch.codes.filter(revoked_at__isnull=False).exists()
    member = UserFactory()
    assert APIClient().post("/api/v1/redeem-codes/redeem/", {"code": "X"}, format="json").status_code == 401
    client.force_login(member)  # a member in admin: sent to the admin login
    assert client.get("/admin/growth/redeemcodebatch/add/").status_code == 302
