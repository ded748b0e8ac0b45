"""What members and operators see of coupons: API row 11 and the usable/claim endpoints (shapes, order,
query counts, the schema), the checkout picker, 我的优惠券 and the claim page in zh-hans and en, and the
admin (make a coupon, issue it to selected members, revoke a copy)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditLog
from growth.models import Coupon, MemberCoupon
from payments.models import Order
from tests.courses.factories import make_course, make_event
from tests.factories import UserFactory
from tests.growth.coupon_helpers import give, make_coupon, open_order

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "code",
    "name",
    "kind",
    "amount_off_fen",
    "percent_off_bp",
    "cap_fen",
    "min_spend_fen",
    "value_text",
    "applies_to",
    "valid_from",
    "valid_until",
    "state",
}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_mine_lists_the_caller_s_coupons_usable_first_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    member, course = UserFactory(), make_course()
    used = give(make_coupon(name="已用券"), member)
    open_order(member, "course", course.pk, used.code)  # held by a pending order
    expired = give(make_coupon(name="过期券"), member)
    MemberCoupon.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    later = give(make_coupon(name="晚到期", valid_days=30), member)
    sooner = give(
        make_coupon(
            name="早到期", valid_days=3, kind="percent", amount_off_fen=0, percent_off_bp=2_000, cap_fen=3_000
        ),
        member,
    )
    give(make_coupon(name="别人的券"), UserFactory())
    for _i in range(5):
        give(make_coupon(name="更多"), member)
    with django_assert_max_num_queries(4):  # auth-less session: count + page
        response = api(member).get("/api/v1/coupons/mine/")
    body = response.json()
    assert (
        response.status_code == 200
        and body["count"] == 9
        and set(body) == {"count", "next", "previous", "results"}
    )
    rows = body["results"]
    assert set(rows[0]) == FIELDS
    names = [row["name"] for row in rows]
    assert names[:2] == ["早到期", "晚到期"] and names[-2:] == ["已用券", "过期券"]
    assert [row["state"] for row in rows][-2:] == ["held", "expired"]
    percent = rows[0]
    assert (percent["kind"], percent["percent_off_bp"], percent["cap_fen"], percent["value_text"]) == (
        "percent",
        2_000,
        3_000,
        "8折（减20%） 最多减 ¥30",
    )
    assert later.code in {row["code"] for row in rows} and sooner.pk == rows[0]["id"]


def test_usable_lists_the_coupons_for_one_item_with_the_price_each_gives():
    member, course, event = UserFactory(), make_course(price_fen=19_900), make_event(price_fen=29_900)
    give(make_coupon(name="减50", amount_off_fen=5_000), member)
    give(make_coupon(name="八折", kind="percent", amount_off_fen=0, percent_off_bp=2_000), member)
    give(make_coupon(name="活动券", item_types=["event"]), member)
    give(make_coupon(name="满300", min_spend_fen=30_000), member)
    response = api(member).get("/api/v1/coupons/usable/", {"item_type": "course", "item_id": course.pk})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["name"], r["discount_fen"], r["amount_fen"]) for r in rows] == [
        ("减50", 5_000, 14_900),
        ("八折", 3_980, 15_920),
    ]
    on_event = api(member).get("/api/v1/coupons/usable/", {"item_type": "event", "item_id": event.pk}).json()
    assert {r["name"] for r in on_event["results"]} == {"减50", "八折", "活动券"}
    for query in (
        {"item_type": "course"},
        {"item_type": "course", "item_id": "abc"},
        {"item_type": "x", "item_id": "1"},
    ):
        assert api(member).get("/api/v1/coupons/usable/", query).status_code == 400, query


def test_claiming_by_token_respects_the_per_member_and_total_limits():
    coupon = make_coupon(claim_enabled=True, per_member_limit=1, issue_limit=2)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    ok = api(first).post("/api/v1/coupons/claim/", {"token": coupon.claim_token}, format="json")
    assert ok.status_code == 201 and set(ok.json()) == FIELDS and ok.json()["state"] == "available"
    again = api(first).post("/api/v1/coupons/claim/", {"token": coupon.claim_token}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "coupon_exhausted"
    assert (
        api(second).post("/api/v1/coupons/claim/", {"token": coupon.claim_token}, format="json").status_code
        == 201
    )
    gone = api(third).post("/api/v1/coupons/claim/", {"token": coupon.claim_token}, format="json")
    assert gone.status_code == 400 and gone.json()["code"] == "coupon_exhausted"
    unknown = api(third).post("/api/v1/coupons/claim/", {"token": "nope"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "coupon_invalid"
    assert MemberCoupon.objects.filter(coupon=coupon).count() == 2


def test_claiming_is_throttled(throttle_rates):
    throttle_rates(coupon_code="2/min")
    member = UserFactory()
    statuses = [
        api(member).post("/api/v1/coupons/claim/", {"token": f"x{n}"}, format="json").status_code
        for n in range(4)
    ]
    assert statuses == [400, 400, 429, 429]


def test_the_coupon_endpoints_are_in_the_schema_and_need_a_login():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/coupons/mine/", "/api/v1/coupons/claim/", "/api/v1/coupons/usable/", "coupon_code"):
        assert path in schema, path
    assert APIClient().get("/api/v1/coupons/mine/").status_code == 401


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", ("优惠券", "用券后", "不使用优惠券")), ("en", ("Coupons", "with coupon", "No coupon"))],
)
def test_checkout_shows_usable_coupons_re_prices_with_one_and_posts_it(client, language, words):
    member, course = UserFactory(), make_course(price_fen=19_900)
    copy = give(make_coupon(name="减50", amount_off_fen=5_000), member)
    client.force_login(member)
    client.cookies["django_language"] = language
    url = f"/payments/checkout/?item_type=course&item_id={course.pk}"
    page = client.get(url).content.decode()
    assert f'data-coupon-offer="{copy.code}"' in page and words[0] in page and words[1] in page
    chosen = client.get(f"{url}&coupon={copy.code}").content.decode()
    assert f'name="coupon_code" value="{copy.code}"' in chosen and "¥149" in chosen and words[2] in chosen
    wrong = client.get(f"{url}&coupon=NOSUCH").content.decode()
    assert "data-coupon-error" in wrong and 'name="coupon_code" value=""' in wrong
    response = client.post(
        "/payments/checkout/",
        {"item_type": "course", "item_id": course.pk, "coupon_code": copy.code, "channel": "sandbox"},
    )
    assert response.status_code == 302
    order = Order.objects.get(user=member)
    assert order.amount_fen == 14_900 and order.context["member_coupon_id"] == copy.pk


@pytest.mark.parametrize(
    ("language", "heading", "state"), [("zh-hans", "我的优惠券", "可使用"), ("en", "My coupons", "Available")]
)
def test_my_coupons_lists_them_by_state_with_a_link_to_use_them(client, language, heading, state):
    member, course = UserFactory(), make_course()
    give(make_coupon(name="单课券", items=[f"course:{course.pk}"]), member)
    used = give(make_coupon(name="已占用"), member)
    open_order(member, "course", make_course(title="另一门").pk, used.code)
    client.force_login(member)
    client.cookies["django_language"] = language
    page = client.get("/growth/coupons/").content.decode()
    assert f"<h1>{heading}</h1>" in page and state in page
    assert f"/payments/checkout/?item_type=course&amp;item_id={course.pk}&amp;coupon=" in page
    assert 'data-coupon-state="held"' in page


@pytest.mark.parametrize(("language", "button"), [("zh-hans", "立即领取"), ("en", "Claim now")])
def test_the_claim_page_gives_a_copy_once(client, language, button):
    coupon = make_coupon(name="春季券", claim_enabled=True)
    member = UserFactory()
    client.force_login(member)
    client.cookies["django_language"] = language
    url = f"/growth/coupons/claim/{coupon.claim_token}/"
    assert button in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 400  # per-member limit 1
    assert MemberCoupon.objects.filter(user=member).count() == 1
    closed = make_coupon(name="未开放")
    assert client.get(f"/growth/coupons/claim/{closed.claim_token}/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/growth/coupons/").status_code == 302


# ---- admin ---------------------------------------------------------------------------------------------------


def test_an_operator_makes_a_coupon_issues_it_to_members_and_revokes_a_copy(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post(
        "/admin/growth/coupon/add/",
        {
            "name": "春季 8 折",
            "kind": "percent",
            "amount_off_fen": "0",
            "percent_off_bp": "2000",
            "cap_fen": "10000",
            "min_spend_fen": "0",
            "item_types": ["course"],
            "items": "",
            "per_member_limit": "1",
            "stackable": "on",
            "code": "spring20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    coupon = Coupon.objects.get()
    assert coupon.code == "SPRING20" and coupon.created_by == operator and coupon.item_types == ["course"]
    members = [UserFactory(), UserFactory()]
    issue = {
        "action": "issue_coupon",
        "_selected_action": [m.pk for m in members],
        "apply": "1",
        "coupon": coupon.pk,
    }
    assert client.post("/admin/members/user/", issue).status_code == 302
    client.post("/admin/members/user/", issue)  # sent twice the same day: issued once
    copies = MemberCoupon.objects.filter(coupon=coupon)
    assert copies.count() == 2 and {c.issued_by for c in copies} == {operator}
    assert AuditLog.objects.filter(action="growth.coupon_issue", actor=operator).count() == 1
    listing = client.get("/admin/growth/coupon/").content.decode()
    assert "春季 8 折" in listing
    assert client.get(f"/admin/growth/coupon/{coupon.pk}/change/").status_code == 200
    target = copies.first()
    client.post("/admin/growth/membercoupon/", {"action": "revoke_selected", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.state == MemberCoupon.State.REVOKED and target.revoked_by == operator
    wrong = client.post(
        "/admin/growth/coupon/add/",
        {
            "name": "x",
            "kind": "amount",
            "amount_off_fen": "0",
            "percent_off_bp": "0",
            "cap_fen": "0",
            "min_spend_fen": "0",
            "per_member_limit": "1",
            "items": "nosuch:1",
        },
    )
    assert wrong.status_code == 200 and Coupon.objects.count() == 1  # form errors, nothing made
