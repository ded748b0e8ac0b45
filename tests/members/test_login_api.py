"""API.md rows 1–3 exactly, against the fake WeChat: login by wx.login code, me, tiers; phone binding."""

from __future__ import annotations

import pytest

from core.models import WeChatIdentity
from members.auth import services as auth_services
from members.auth.services import on_user_signed_up
from members.models import User
from tests.factories import UserFactory
from tests.members.conftest import api_for
from tests.members.helpers import buy

LOGIN = "/api/v1/auth/wechat/miniprogram/"


@pytest.fixture
def signups():
    calls = []

    def listener(*, user, referral_code, source):
        calls.append((user.pk, referral_code, source))

    saved = list(auth_services._signup_listeners)
    on_user_signed_up(listener)
    yield calls
    auth_services._signup_listeners[:] = saved


def login(code: str, **extra):
    return api_for().post(LOGIN, {"code": code, **extra}, format="json")


def test_first_login_creates_the_user_and_answers_row_1_exactly(fake_wechat, signups, db):
    code = fake_wechat.login_code(openid="oNEWopenid000000000000000001", unionid="uUNION1")
    response = login(code, referral_code="ABCD2345")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert set(body["user"]) == {"id", "nickname", "member_no"}
    assert body["user"]["member_no"] is None
    identity = WeChatIdentity.objects.get(openid="oNEWopenid000000000000000001")
    assert identity.user_id == body["user"]["id"] and identity.unionid == "uUNION1"
    assert identity.kind == WeChatIdentity.Kind.MINIPROGRAM and identity.session_key  # kept, encrypted
    assert "session_key" not in response.content.decode()
    assert signups == [(body["user"]["id"], "ABCD2345", "miniprogram")]
    # the access token works on row 2
    me = api_for().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]


def test_second_login_finds_the_same_user_and_ignores_the_referral_code(fake_wechat, signups, db):
    first = login(fake_wechat.login_code(openid="oSAMEopenid00000000000000001")).json()
    second = login(fake_wechat.login_code(openid="oSAMEopenid00000000000000001"), referral_code="ZZZZ9999")
    assert second.status_code == 200
    assert second.json()["user"]["id"] == first["user"]["id"]
    assert len(signups) == 1 and User.objects.count() == 1


def test_unionid_links_the_mini_program_to_an_existing_web_user(fake_wechat, signups, db):
    web_user = UserFactory()
    WeChatIdentity.objects.create(
        user=web_user,
        kind=WeChatIdentity.Kind.WEBSITE,
        appid="wx_web",
        openid="oWEBopenid",
        unionid="uSHARED",
    )
    response = login(fake_wechat.login_code(openid="oMPopenid000000000000000001", unionid="uSHARED"))
    assert response.json()["user"]["id"] == web_user.pk
    assert signups == []  # not a new user
    assert web_user.wechat_identities.count() == 2


@pytest.mark.parametrize(
    "payload",
    [{"code": "never-issued"}, {"code": ""}, {}, {"code": "x" * 200}, {"code": None}],
)
def test_invalid_codes_give_wechat_login_failed(fake_wechat, db, payload):
    response = api_for().post(LOGIN, payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_login_failed"
    assert User.objects.count() == 0


def test_a_used_code_fails_the_second_time(fake_wechat, db):
    code = fake_wechat.login_code()
    assert login(code).status_code == 200
    assert login(code).json()["code"] == "wechat_login_failed"


def test_wechat_unreachable_is_a_400_not_a_500(db):
    response = login("any-code")  # no fake: connection refused
    assert response.status_code == 400 and response.json()["code"] == "wechat_login_failed"


def test_wechat_timeout_is_a_400_not_a_500(fake_wechat, db, settings):
    import time

    settings.WECHAT_TIMEOUT_SECONDS = 0.2

    def slow(request, match):
        time.sleep(0.6)
        return fake_wechat.wx_json({"openid": "oSLOW", "session_key": "k"})

    fake_wechat.route("GET", r"/sns/jscode2session", slow)
    response = login("slow-code")
    assert response.status_code == 400 and response.json()["code"] == "wechat_login_failed"


@pytest.mark.parametrize(
    "answer",
    [
        {"errcode": -1, "errmsg": "system error"},
        {"errcode": 45011, "errmsg": "api minute-quota reach limit"},
        {"session_key": "no openid in this answer"},
    ],
)
def test_wechat_errors_are_a_400(fake_wechat, db, answer):
    fake_wechat.route("GET", r"/sns/jscode2session", lambda request, match: fake_wechat.wx_json(answer))
    response = login("code")
    assert response.status_code == 400 and response.json()["code"] == "wechat_login_failed"


def test_garbage_from_wechat_is_a_400(fake_wechat, db):
    from werkzeug import Response

    fake_wechat.route(
        "GET", r"/sns/jscode2session", lambda request, match: Response("<html>502</html>", status=502)
    )
    response = login("code")
    assert response.status_code == 400 and response.json()["code"] == "wechat_login_failed"


def test_disabled_account_cannot_log_in(fake_wechat, db):
    body = login(fake_wechat.login_code(openid="oDISABLED00000000000000001")).json()
    User.objects.filter(pk=body["user"]["id"]).update(is_active=False)
    response = login(fake_wechat.login_code(openid="oDISABLED00000000000000001"))
    assert response.status_code == 403 and response.json()["code"] == "account_disabled"


def test_login_is_throttled_with_scope_login(fake_wechat, db, throttle_rates):
    throttle_rates(login="3/min")
    statuses = [login(f"bad-{i}").status_code for i in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_refresh_rotates_and_blacklists_the_old_refresh_token(fake_wechat, db):
    body = login(fake_wechat.login_code()).json()
    refreshed = api_for().post("/api/v1/auth/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert set(refreshed.json()) >= {"access", "refresh"}
    again = api_for().post("/api/v1/auth/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert again.status_code == 401


def test_me_without_membership_answers_row_2_exactly(member):
    response = api_for(member).get("/api/v1/me/")
    body = response.json()
    assert response.status_code == 200
    assert {"id", "nickname", "member_no", "membership", "referral_code"} <= set(body)
    assert body["membership"] is None and body["member_no"] is None
    assert body["referral_code"] == member.referral_code


def test_me_with_membership_shows_tier_code_and_window(member, vip):
    buy(member, "VIP")
    member.refresh_from_db()
    body = api_for(member).get("/api/v1/me/").json()
    assert body["member_no"] == "VIP-000001"
    assert body["membership"]["tier"] == "VIP"
    assert set(body["membership"]) == {"tier", "starts_at", "ends_at"}
    assert body["membership"]["ends_at"].endswith("+08:00")


@pytest.mark.parametrize("state", ["none", "active", "ended"])
def test_me_is_one_statement_with_or_without_a_membership_or_points(
    member, vip, state, django_assert_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from members.models import Membership, PointsAccount

    now = timezone.now()
    if state != "none":
        ends_at = now + timedelta(days=30) if state == "active" else now - timedelta(days=1)
        Membership.objects.create(
            user=member, tier=vip, starts_at=ends_at - timedelta(days=365), ends_at=ends_at
        )
        PointsAccount.objects.create(user=member, balance=42, earned_total=42)
    client = api_for(member)  # force_authenticate: the JWT's user row is not counted here
    with django_assert_num_queries(1):
        body = client.get("/api/v1/me/").json()
    assert body["points_balance"] == (0 if state == "none" else 42)
    assert (body["membership"] is not None) == (state == "active")
    if state == "active":
        assert body["membership"]["tier"] == "VIP"


def test_me_needs_a_token(db):
    assert api_for().get("/api/v1/me/").status_code == 401
    assert api_for().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_nickname_can_be_changed_but_not_to_blocked_words(member):
    client = api_for(member)
    assert client.patch("/api/v1/me/", {"nickname": "新昵称"}, format="json").json()["nickname"] == "新昵称"
    response = client.patch("/api/v1/me/", {"nickname": "赌博大师"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "content_rejected"


def test_tiers_answer_row_3_exactly(db, vip, ka, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = api_for().get("/api/v1/membership/tiers/")
    assert response.status_code == 200
    tiers = response.json()
    assert [t["code"] for t in tiers] == ["VIP", "KA"]
    assert {"code", "name", "price_fen", "duration_days", "benefits"} <= set(tiers[0])
    assert tiers[0]["price_fen"] == 360_000 and tiers[1]["price_fen"] == 12_000_000
    assert tiers[1]["benefits"] == ["包含 VIP 全部权益", "私董课程"]


# ---- phone binding ------------------------------------------------------------------------------------


def test_phone_is_bound_from_the_getphonenumber_code(mp_wechat, member):
    response = api_for(member).post(
        "/api/v1/me/phone/", {"code": mp_wechat.phone_code("13912345678")}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"phone": "139****5678", "phone_verified": True}
    member.refresh_from_db()
    assert member.phone == "+8613912345678" and member.phone_verified
    assert User.objects.get_by_phone("13912345678") == member


def test_phone_of_another_account_is_refused(mp_wechat, member, other):
    other.set_phone("13912345678", verified=True)
    other.save()
    response = api_for(member).post(
        "/api/v1/me/phone/", {"code": mp_wechat.phone_code("13912345678")}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "phone_in_use"
    member.refresh_from_db()
    assert not member.phone


def test_bad_phone_code_is_a_400(mp_wechat, member):
    response = api_for(member).post("/api/v1/me/phone/", {"code": "never-issued"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "wechat_phone_failed"


def test_phone_binding_without_wechat_is_a_400(member):
    response = api_for(member).post("/api/v1/me/phone/", {"code": "x"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "wechat_phone_failed"


def test_whole_journey_login_buy_vip_upgrade_to_ka(fake_wechat, vip, ka, db):
    """Done-when, through the API: log in by code, buy VIP, see number and 365 days, upgrade at the credited price."""
    from members.models import Membership
    from tests.members.helpers import age

    body = login(fake_wechat.login_code(openid="oJOURNEY00000000000000000001")).json()
    client = api_for()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    created = client.post(
        "/api/v1/orders/",
        {"item_type": "membership", "item_id": "VIP", "channel": "wechat_miniprogram"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert set(created.json()["payment"]) >= {
        "appId",
        "timeStamp",
        "nonceStr",
        "package",
        "signType",
        "paySign",
    }
    from payments.models import Payment
    from payments.orders.notifications import notification_handle

    payment = Payment.objects.get(order__order_no=created.json()["order_no"])
    headers, raw = fake_wechat.pay(payment.out_trade_no)
    result = notification_handle(
        body=raw, meta={"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    )
    assert result.status < 300
    me = client.get("/api/v1/me/").json()
    assert me["member_no"] == "VIP-000001" and me["membership"]["tier"] == "VIP"
    mine = client.get("/api/v1/membership/mine/").json()
    assert mine["membership"]["days_left"] == 365
    user = User.objects.get(pk=body["user"]["id"])
    age(user, 65)
    quote = client.get("/api/v1/membership/quote/", {"tier": "KA"}).json()
    assert quote["kind"] == "upgrade" and quote["credit_fen"] == 360_000 * 300 // 365
    assert quote["amount_fen"] == 12_000_000 - quote["credit_fen"]
    upgrade = client.post(
        "/api/v1/orders/",
        {"item_type": "membership", "item_id": "KA", "channel": "wechat_miniprogram"},
        format="json",
    )
    assert upgrade.json()["amount_fen"] == quote["amount_fen"]
    payment = Payment.objects.get(order__order_no=upgrade.json()["order_no"])
    headers, raw = fake_wechat.pay(payment.out_trade_no)
    notification_handle(body=raw, meta={"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    assert Membership.objects.get(user=user).tier.code == "KA"
    checklist = client.get("/api/v1/onboarding/").json()
    assert [step["key"] for step in checklist["steps"]] == ["reps", "service_group", "intro", "big_group"]
