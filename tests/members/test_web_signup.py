"""Web sign-up through django-allauth: phone + SMS code, log in by code, and the sign-up hook."""

from __future__ import annotations

import re

import pytest

from members.auth import services as auth_services
from members.auth.services import on_user_signed_up
from members.models import User
from members.sms import ConsoleSmsSender


@pytest.fixture
def signups():
    calls = []

    def listener(*, user, referral_code, source):
        calls.append((user.pk, referral_code, source))

    saved = list(auth_services._signup_listeners)
    on_user_signed_up(listener)
    yield calls
    auth_services._signup_listeners[:] = saved


@pytest.fixture(autouse=True)
def outbox():
    ConsoleSmsSender.outbox.clear()
    yield ConsoleSmsSender.outbox
    ConsoleSmsSender.outbox.clear()


def last_code(outbox, phone="+8613800138001") -> str:
    sent = [code for to, code in outbox if to == phone]
    assert sent, outbox
    return sent[-1]


def test_phone_sign_up_verifies_by_sms_and_runs_the_hook_once(client, db, signups, outbox):
    # given a visitor who arrived through a referral link
    session = client.session
    session["referral_code"] = "REF23456"
    session.save()

    # when they sign up with a phone number and a password
    response = client.post(
        "/accounts/signup/",
        {"phone": "13800138001", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get_by_phone("13800138001")
    assert user.phone == "+8613800138001" and not user.phone_verified
    assert signups == [(user.pk, "REF23456", "web")]

    # then the SMS code verifies the phone
    verify = client.get(response["Location"], follow=True)
    assert verify.status_code == 200
    response = client.post("/accounts/phone/verify/", {"code": last_code(outbox)})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone_verified
    assert signups == [(user.pk, "REF23456", "web")]  # still once


def test_log_in_by_sms_code(client, db, outbox):
    user = User.objects.create_user(username="web_phone", password="Zhiquan-2026-pw")
    user.set_phone("13800138001", verified=True)
    user.save()
    response = client.post("/accounts/login/code/", {"phone": "13800138001"})
    assert response.status_code == 302 and "/accounts/login/code/confirm/" in response["Location"]
    code = last_code(outbox)
    assert re.fullmatch(r"\d{6}", code)
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get("/account/").status_code == 200


def test_wrong_sms_code_does_not_log_in(client, db, outbox):
    user = User.objects.create_user(username="web_phone2", password="Zhiquan-2026-pw")
    user.set_phone("13800138001", verified=True)
    user.save()
    client.post("/accounts/login/code/", {"phone": "13800138001"})
    response = client.post("/accounts/login/code/confirm/", {"code": "WRONG1"})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_email_sign_up_runs_the_hook_without_a_referral(client, db, signups):
    response = client.post(
        "/accounts/signup/",
        {
            "phone": "13800138002",
            "email": "new@example.com",
            "password1": "Zhiquan-2026-pw",
            "password2": "Zhiquan-2026-pw",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert signups == [(user.pk, "", "web")]


def test_wechat_web_login_links_to_the_mini_program_user_by_unionid(db, rf, settings):
    from allauth.socialaccount.models import SocialAccount, SocialLogin

    # what WECHAT_WEB_APPID / WECHAT_WEB_SECRET configure in production
    settings.SOCIALACCOUNT_PROVIDERS = {
        "weixin": {"SCOPE": ["snsapi_login"], "APP": {"client_id": "wx_web_app", "secret": "s"}}
    }
    from django.contrib.sessions.backends.cache import SessionStore

    from core.models import WeChatIdentity
    from members.adapters import SocialAccountAdapter
    from tests.factories import UserFactory

    mp_user = UserFactory()
    WeChatIdentity.objects.create(
        user=mp_user, kind=WeChatIdentity.Kind.MINIPROGRAM, appid="wx_mp", openid="oMP", unionid="uSAME"
    )
    account = SocialAccount(provider="weixin", uid="oWEB", extra_data={"unionid": "uSAME", "nickname": "x"})
    sociallogin = SocialLogin(user=User(username="tmp"), account=account)
    request = rf.get("/")
    request.session = SessionStore()
    request.user = mp_user
    SocialAccountAdapter().pre_social_login(request, sociallogin)
    assert SocialAccount.objects.get(uid="oWEB").user == mp_user
    identity = WeChatIdentity.objects.get(openid="oWEB")
    assert (
        identity.user == mp_user
        and identity.kind == WeChatIdentity.Kind.WEBSITE
        and identity.unionid == "uSAME"
    )


def test_an_account_without_a_phone_logs_in_with_its_password(client, db):
    # given a teacher an operator created in the admin: a username and a password, no phone
    teacher = User.objects.create_user(username="teacher_li", password="Zhiquan-2026-pw", is_staff=True)

    # when they log in on the site's form
    response = client.post("/accounts/login/", {"login": "teacher_li", "password": "Zhiquan-2026-pw"})

    # then they are in (allauth's phone stage used to abort and bounce them back to the form)
    assert response.status_code == 302 and "/accounts/login/" not in response["Location"]
    assert int(client.session["_auth_user_id"]) == teacher.pk


def test_an_unverified_phone_is_still_verified_before_the_login_completes(client, db, outbox):
    user = User.objects.create_user(username="web_unverified", password="Zhiquan-2026-pw")
    user.set_phone("13800138001", verified=False)
    user.save()
    response = client.post("/accounts/login/", {"login": "web_unverified", "password": "Zhiquan-2026-pw"})
    assert response.status_code == 302 and response["Location"].endswith("/accounts/phone/verify/")
    assert "_auth_user_id" not in client.session
    client.post("/accounts/phone/verify/", {"code": last_code(outbox)})
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_mini_program_member_without_a_phone_logs_in_on_the_web_by_wechat(db, rf, settings):
    from allauth.core import context
    from allauth.socialaccount.helpers import complete_social_login
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.cache import SessionStore

    from core.models import WeChatIdentity
    from tests.factories import UserFactory

    settings.SOCIALACCOUNT_PROVIDERS = {
        "weixin": {"SCOPE": ["snsapi_login"], "APP": {"client_id": "wx_web_app", "secret": "s"}}
    }
    # given a member who only ever used the mini-program (no phone bound)
    mp_user = UserFactory(phone="")
    assert not mp_user.phone
    WeChatIdentity.objects.create(
        user=mp_user, kind=WeChatIdentity.Kind.MINIPROGRAM, appid="wx_mp", openid="oMP2", unionid="uSAME2"
    )
    # when WeChat's web login comes back with the same unionid
    request = rf.get("/accounts/weixin/login/callback/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.user = AnonymousUser()
    account = SocialAccount(provider="weixin", uid="oWEB2", extra_data={"unionid": "uSAME2", "nickname": "x"})
    sociallogin = SocialLogin(user=User(username="tmp2"), account=account)
    with context.request_context(request):  # what allauth's middleware sets around every request
        response = complete_social_login(request, sociallogin)

    # then the session belongs to the mini-program member and they land on the site, not the login form
    assert request.session["_auth_user_id"] == str(mp_user.pk)
    assert "/accounts/login/" not in response["Location"]
    assert SocialAccount.objects.get(uid="oWEB2").user == mp_user


def test_in_the_demo_the_sms_code_is_shown_on_the_code_page_badged_demo(client, db, outbox):
    user = User.objects.create_user(username="web_phone3", password="Zhiquan-2026-pw")
    user.set_phone("13800138001", verified=True)
    user.save()
    response = client.post("/accounts/login/code/", {"phone": "13800138001"})
    page = client.get(response["Location"]).content.decode()
    code = last_code(outbox)
    assert "data-demo-sms-code" in page and code in page and "演示" in page


def test_after_sign_up_the_messages_name_the_member_not_the_generated_username(client, db, outbox):
    client.post(
        "/accounts/signup/",
        {"phone": "13800138001", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    response = client.post("/accounts/phone/verify/", {"code": last_code(outbox)}, follow=True)
    user = User.objects.get_by_phone("13800138001")
    shown = " ".join(str(m) for m in response.context["messages"])
    assert user.username.startswith("web_") and user.username not in shown
    assert f"欢迎，{user.nickname}！" in shown and user.nickname.endswith("8001")
    assert "138****8001" in shown and "+8613800138001" not in shown


def test_the_code_page_styles_cancel_as_a_secondary_action(client, db, outbox):
    response = client.post(
        "/accounts/signup/",
        {"phone": "13800138001", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    page = client.get(response["Location"]).content.decode()
    confirm = re.search(r'<button class="([^"]+)" type="submit">\s*确认', page)
    cancel = re.search(r'<button class="([^"]+)"[^>]*data-cancel', page)
    assert confirm and "primary" in confirm.group(1)
    assert cancel and "primary" not in cancel.group(1) and "secondary" in cancel.group(1)


def test_the_login_box_is_labelled_by_what_people_sign_in_with(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert "手机号或用户名" in page
    assert "电子邮件或电话号码" not in page and "Email or phone" not in page
    user = User.objects.create_user(username="member", password="Zhiquan-2026-pw")
    response = client.post("/accounts/login/", {"login": "member", "password": "Zhiquan-2026-pw"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_the_demo_code_is_shown_only_until_the_member_is_signed_in(client, db, outbox):
    response = client.post(
        "/accounts/signup/",
        {"phone": "13800138001", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
    )
    assert "data-demo-sms-code" in client.get(response["Location"]).content.decode()
    assert "data-demo-sms-code" not in client.get("/accounts/password/reset/").content.decode()
    client.post("/accounts/phone/verify/", {"code": last_code(outbox)})
    assert "demo_sms_code" not in client.session
    assert "data-demo-sms-code" not in client.get("/accounts/logout/").content.decode()
