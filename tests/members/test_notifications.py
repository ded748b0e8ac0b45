"""In-site notifications, and subscribe messages that consume exactly one opt-in each."""

from __future__ import annotations

import pytest
from django.db import transaction

from core.models import WeChatIdentity
from members.models import Notification, SubscribeOptIn, SubscribeTemplate
from members.notifications.opt_ins import subscribe_optin_consume, subscribe_optin_record
from members.notifications.selectors import subscribe_optins_left
from members.notifications.services import notification_push, notification_send, notifications_push_sweep
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.members.conftest import api_for, run_on_commit

TEMPLATE_ID = "tmpl-renewal-0001"


@pytest.fixture
def renewal_template(db):
    return SubscribeTemplate.objects.create(
        key="renewal_reminder",
        name="续费提醒",
        template_id=TEMPLATE_ID,
        fields="thing1,time2",
        page="pages/me/me",
    )


@pytest.fixture
def mp_member(db, settings):
    user = UserFactory()
    WeChatIdentity.objects.create(
        user=user,
        kind=WeChatIdentity.Kind.MINIPROGRAM,
        appid=settings.WECHAT_MINIPROGRAM_APPID,
        openid=f"o_member_{user.pk:022d}",
    )
    return user


def openid_of(user) -> str:
    return WeChatIdentity.objects.get(user=user).openid


def send_reminder(user, **kwargs):
    return notification_send(
        user=user,
        kind="renewal_reminder",
        title="会员将于 7 天后到期",
        body="续费可从到期日起顺延 365 天",
        url="/account/",
        subscribe_template="renewal_reminder",
        subscribe_data={"thing1": "VIP会员即将到期，点击续费享不间断权益", "time2": "2027-01-01 09:00"},
        **kwargs,
    )


def test_plain_notification_is_in_site_only_and_calls_no_wechat(member):
    with run_on_commit():
        notification = notification_send(user=member, kind="system", title="欢迎加入知圈")
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.NONE
    assert Notification.objects.filter(user=member, read_at__isnull=True).count() == 1


def test_subscribe_message_is_sent_after_commit_and_consumes_exactly_one_optin(
    mp_member, renewal_template, mp_wechat
):
    # given the member accepted the prompt twice (WeChat counts it, and so do we)
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID, times=2)
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder", count=2)

    # when a notification is sent inside a transaction
    with run_on_commit() as callbacks:
        notification = send_reminder(mp_member)
        assert mp_wechat.sent == []  # nothing leaves before commit
    assert len(callbacks) == 1

    # then WeChat got one message with the real wire format and one opt-in is left
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.SENT
    assert len(mp_wechat.sent) == 1
    message = mp_wechat.sent[0]
    assert message["touser"] == openid_of(mp_member)
    assert message["template_id"] == TEMPLATE_ID
    assert message["page"] == "pages/me/me"
    assert len(message["data"]["thing1"]["value"]) <= 20  # truncated to WeChat's limit, not refused
    assert message["data"]["time2"] == {"value": "2027-01-01 09:00"}
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 1


def test_running_the_push_twice_sends_once(mp_member, renewal_template, mp_wechat):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID, times=5)
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder", count=5)
    with run_on_commit():
        notification = send_reminder(mp_member)
    notification_push(notification_id=notification.pk)  # a redelivered task
    notification_push(notification_id=notification.pk)
    assert len(mp_wechat.sent) == 1
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 4


def test_without_an_optin_left_the_member_gets_the_in_site_notification_only(
    mp_member, renewal_template, mp_wechat
):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    with run_on_commit():
        notification = send_reminder(mp_member)
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.SKIPPED
    assert not any(path.endswith("subscribe/send") for _m, path in mp_wechat.fake.calls)
    assert Notification.objects.filter(user=mp_member).count() == 1


def test_web_only_member_without_openid_gets_in_site_only(member, renewal_template, mp_wechat):
    subscribe_optin_record(user=member, template_key="renewal_reminder")
    with run_on_commit():
        notification = send_reminder(member)
    assert notification.push_status == Notification.Push.SKIPPED
    assert subscribe_optins_left(member, "renewal_reminder") == 1  # nothing consumed


def test_unconfigured_template_key_falls_back_to_in_site(mp_member, mp_wechat):
    subscribe_optin_record(user=mp_member, template_key="not_configured")
    with run_on_commit():
        notification = notification_send(
            user=mp_member, kind="x", title="t", subscribe_template="not_configured"
        )
    assert notification.push_status == Notification.Push.SKIPPED
    assert subscribe_optins_left(mp_member, "not_configured") == 1


def test_rolled_back_transaction_sends_nothing_and_keeps_the_optin(mp_member, renewal_template, mp_wechat):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID)
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    with run_on_commit():
        try:
            with transaction.atomic():
                send_reminder(mp_member)
                raise RuntimeError("the caller's transaction fails")
        except RuntimeError:
            pass
    assert mp_wechat.sent == []
    assert not Notification.objects.filter(user=mp_member).exists()
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 1


def test_wechat_refusal_43101_uses_up_the_optin(mp_member, renewal_template, mp_wechat):
    # given our counter says 1 but WeChat has none (the member used it from another device)
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.openids.add(openid_of(mp_member))
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    with run_on_commit():
        notification = send_reminder(mp_member)
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.FAILED
    assert notification.push_error.startswith("43101")
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 0


def test_wechat_error_before_using_the_optin_gives_it_back(mp_member, renewal_template, mp_wechat):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID)
    mp_wechat.send_failures.append((40037, "invalid template_id"))
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    with run_on_commit():
        notification = send_reminder(mp_member)
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.FAILED
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 1
    assert Notification.objects.filter(user=mp_member).count() == 1  # the in-site one is there


def test_unreachable_wechat_keeps_the_in_site_notification_and_the_optin(mp_member, renewal_template):
    # no fake: every WeChat URL points at a closed port
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    with run_on_commit():
        notification = send_reminder(mp_member)
    notification.refresh_from_db()
    assert notification.push_status == Notification.Push.FAILED
    assert subscribe_optins_left(mp_member, "renewal_reminder") == 1


def test_list_items_and_plain_values_map_onto_the_template_keywords(mp_member, renewal_template, mp_wechat):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID)
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    with run_on_commit():
        notification_send(
            user=mp_member,
            kind="renewal_reminder",
            title="t",
            subscribe_template="renewal_reminder",
            subscribe_data=["会员到期提醒", "2027-01-01"],
        )
    assert mp_wechat.sent[0]["data"] == {
        "thing1": {"value": "会员到期提醒"},
        "time2": {"value": "2027-01-01"},
    }


def test_push_sweep_sends_rows_whose_task_was_lost(mp_member, renewal_template, mp_wechat):
    mp_wechat.template(TEMPLATE_ID, ["thing1", "time2"])
    mp_wechat.accept(openid_of(mp_member), TEMPLATE_ID)
    subscribe_optin_record(user=mp_member, template_key="renewal_reminder")
    notification = send_reminder(mp_member)  # on_commit never runs: the task was "lost"
    assert notification.push_status == Notification.Push.QUEUED
    assert notifications_push_sweep(older_than_seconds=0) == 1
    assert notifications_push_sweep(older_than_seconds=0) == 0
    assert len(mp_wechat.sent) == 1


def test_optin_counts_refuse_silly_counts(member):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        subscribe_optin_record(user=member, template_key="renewal_reminder", count=0)
    with pytest.raises(ApplicationError):
        subscribe_optin_record(user=member, template_key="renewal_reminder", count=10_000)
    assert not subscribe_optin_consume(user=member, template_key="renewal_reminder")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_consumers_never_take_more_optins_than_recorded():
    user = UserFactory()
    subscribe_optin_record(user=user, template_key="checkin_reminder", count=3)

    def consume() -> bool:
        return subscribe_optin_consume(user=user, template_key="checkin_reminder")

    results = run_together([consume] * 8)
    assert sorted(results) == [False] * 5 + [True] * 3
    assert SubscribeOptIn.objects.get(user=user).remaining == 0


# ---- API ------------------------------------------------------------------------------------------------


def test_notifications_api_lists_mine_newest_first_with_unread_count(
    member, other, django_assert_max_num_queries
):
    for index in range(25):
        notification_send(user=member, kind="system", title=f"通知 {index}")
    notification_send(user=other, kind="system", title="别人的")
    client = api_for(member)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 25 and body["unread_count"] == 25
    assert body["results"][0]["title"] == "通知 24"
    assert set(body["results"][0]) == {"id", "kind", "title", "body", "url", "read", "created_at"}
    assert "+08:00" in body["results"][0]["created_at"]
    assert body["next"] is not None


def test_marking_read_is_mine_only(member, other):
    mine = notification_send(user=member, kind="system", title="mine")
    theirs = notification_send(user=other, kind="system", title="theirs")
    client = api_for(member)
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
    theirs.refresh_from_db()
    assert theirs.read_at is None
    notification_send(user=member, kind="system", title="second")
    response = client.post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread_count": 0}


def test_notifications_need_login():
    assert api_for().get("/api/v1/notifications/").status_code == 401


def test_optin_api_records_accepted_prompts_and_ignores_the_rest(member, renewal_template):
    SubscribeTemplate.objects.create(key="checkin_reminder", name="打卡提醒", template_id="tmpl-checkin")
    client = api_for(member)
    response = client.post(
        "/api/v1/notifications/opt-ins/",
        {"results": {TEMPLATE_ID: "accept", "tmpl-checkin": "reject", "tmpl-unknown": "accept"}},
        format="json",
    )
    assert response.status_code == 200
    left = {row["template_key"]: row["remaining"] for row in response.json()["opt_ins"]}
    assert left == {"renewal_reminder": 1, "checkin_reminder": 0}
    assert response.json()["ignored"] == ["tmpl-unknown"]
    client.post("/api/v1/notifications/opt-ins/", {"results": {"renewal_reminder": "accept"}}, format="json")
    assert subscribe_optins_left(member, "renewal_reminder") == 2
    listed = client.get("/api/v1/notifications/opt-ins/").json()["opt_ins"]
    assert {row["template_id"] for row in listed} == {TEMPLATE_ID, "tmpl-checkin"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"results": {}}, {"results": {"tmpl-unknown": "accept"}}, {"results": "accept"}],
)
def test_optin_api_refuses_bad_input(member, renewal_template, payload):
    response = api_for(member).post("/api/v1/notifications/opt-ins/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "unknown_template")
    assert subscribe_optins_left(member, "renewal_reminder") == 0


# ---- page -----------------------------------------------------------------------------------------------


def test_notifications_page_opens_and_marks_read(client, member, other):
    notification = notification_send(
        user=member, kind="system", title="会员开通成功", url="/account/notifications/"
    )
    theirs = notification_send(user=other, kind="system", title="theirs")
    client.force_login(member)
    page = client.get("/account/notifications/")
    assert page.status_code == 200 and "会员开通成功" in page.content.decode()
    assert "theirs" not in page.content.decode()
    response = client.post(f"/account/notifications/{notification.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/account/notifications/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.post(f"/account/notifications/{theirs.pk}/open/").status_code == 404  # as if missing
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notification_link_to_another_site_is_not_followed(client, member):
    notification = notification_send(user=member, kind="x", title="t", url="https://evil.example/")
    client.force_login(member)
    response = client.post(f"/account/notifications/{notification.pk}/open/")
    assert response["Location"] == "/account/notifications/"
