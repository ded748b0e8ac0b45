"""Training camps: check-ins (today, future, other days, make-ups), uploads, content check and moderation,
teacher review with points, streaks, calendar, leaderboard, certificate, poster, refunds."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from core.errors import ApplicationError
from core.models import WeChatIdentity
from courses.camps import checkins as camp_checkins
from courses.camps import review_queues as camp_review_queues
from courses.camps import reviews as camp_reviews
from courses.camps import seats as camp_seats
from courses.camps import selectors as camp_selectors
from courses.models import CheckIn, TermSeat
from members.models import Notification, PointsAccount
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from payments.orders.selectors import refund_window_open
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory

START = date(2026, 3, 1)  # day 1 of the fixed-date terms below


def png(size=(16, 16), color=(10, 200, 10)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def at(day: int, hour: int = 21, minute: int = 0):
    """A moment on day `day` of the fixed-date term, Asia/Shanghai."""
    moment = START + timedelta(days=day - 1)
    return f.shanghai(moment.year, moment.month, moment.day, hour, minute)


@pytest.fixture
def fixed_camp(teacher):
    camp, term = f.make_camp(price_fen=0, days=7, teacher=teacher, today=START, started_days_ago=0)
    return camp, term


def joined(term, user=None):
    user = user or UserFactory()
    camp_seats.seat_grant(term=term, user=user, source="free")
    return user


def submit(user, term, day, *, now, text="今天写了 300 字", images=()):
    task = term.camp.tasks.get(day=day)
    return camp_checkins.checkin_submit(user=user, term=term, task=task, text=text, images=images, now=now)


def seat_of(user, term) -> TermSeat:
    return TermSeat.objects.get(user=user, term=term)


@pytest.mark.django_db
def test_check_in_today_through_the_api_counts_the_day_and_awards_points(member):
    camp, term = f.make_camp(price_fen=0)
    client = api_for(member)
    assert client.post(f"/api/v1/camps/terms/{term.pk}/join/").status_code == 201
    today_task = client.get(f"/api/v1/camps/terms/{term.pk}/").json()["today_task"]
    assert today_task["day"] == 3 and today_task["title"] == "任务3"
    response = client.post(
        f"/api/v1/camps/terms/{term.pk}/checkins/",
        {"task_id": today_task["id"], "text": "今天读完了第三章", "images": [png()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "visible" and body["points_awarded"] == 10 and not body["is_makeup"]
    assert len(body["images"]) == 1 and body["images"][0].endswith(".png")
    home = client.get(f"/api/v1/camps/terms/{term.pk}/").json()
    assert home["my_checkin_today"]["id"] == body["id"]
    assert home["seat"] | {"rank": None} == {
        "points": 10,
        "checkin_days": 1,
        "streak": 1,
        "best_streak": 1,
        "makeups_used": 0,
        "makeups_left": 3,
        "rank": None,
        "completed": False,
        "certificate_no": None,
    }
    assert PointsAccount.objects.get(user=member).balance == 10
    feed = client.get(f"/api/v1/camps/terms/{term.pk}/checkins/").json()
    assert [c["id"] for c in feed] == [body["id"]]
    twice = client.post(
        f"/api/v1/camps/terms/{term.pk}/checkins/",
        {"task_id": today_task["id"], "text": "again"},
        format="json",
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_checked_in"


@pytest.mark.django_db
def test_future_tasks_other_days_and_the_make_up_rules(fixed_camp):
    camp, term = fixed_camp
    member = joined(term)
    now = at(4)

    with pytest.raises(ApplicationError) as future:
        submit(member, term, 5, now=now)
    assert future.value.code == "task_locked"

    camp.makeup_days = 0
    camp.save()
    with pytest.raises(ApplicationError) as other_day:
        submit(member, term, 3, now=now)
    assert other_day.value.code == "task_not_today"

    camp.makeup_days, camp.makeup_limit = 2, 1
    camp.save()
    with pytest.raises(ApplicationError) as too_old:
        submit(member, term, 1, now=now)  # three days ago, the window is two
    assert too_old.value.code == "makeup_window_closed"
    made_up = submit(member, term, 2, now=now)
    assert made_up.is_makeup and made_up.day == START + timedelta(days=1) and made_up.points_awarded == 5
    with pytest.raises(ApplicationError) as limit:
        submit(member, term, 3, now=now)
    assert limit.value.code == "makeup_limit_reached"
    submit(member, term, 4, now=now)  # today's task still works
    seat = seat_of(member, term)
    assert (seat.checkin_days, seat.makeups_used, seat.points) == (2, 1, 15)

    other_camp, _other_term = f.make_camp(price_fen=0)
    stray = other_camp.tasks.get(day=1)
    with pytest.raises(ApplicationError) as wrong_camp:
        camp_checkins.checkin_submit(user=member, term=term, task=stray, text="x", now=now)
    assert wrong_camp.value.status_code == 404
    outsider = UserFactory()
    with pytest.raises(ApplicationError) as not_joined:
        submit(outsider, term, 4, now=now)
    assert not_joined.value.code == "not_entitled"


@pytest.mark.django_db
def test_make_ups_after_the_term_ends_follow_the_same_window(fixed_camp):
    _camp, term = fixed_camp
    member = joined(term)
    submit(member, term, 7, now=at(8, 9))  # the day after the last day: a make-up of day 7
    with pytest.raises(ApplicationError) as closed:
        submit(member, term, 7, now=at(10))
    assert closed.value.code in ("makeup_window_closed", "already_checked_in")
    with pytest.raises(ApplicationError) as late:
        submit(member, term, 6, now=at(10))
    assert late.value.code == "makeup_window_closed"


@pytest.mark.django_db
def test_uploads_are_checked_by_content_and_size(fixed_camp, settings):
    camp, term = fixed_camp
    member = joined(term)
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    with pytest.raises(ApplicationError) as not_image:
        submit(member, term, 1, now=at(1), images=[fake])
    assert not_image.value.code == "invalid_image"
    settings.UPLOAD_IMAGE_MAX_BYTES = 200
    with pytest.raises(ApplicationError) as too_big:
        submit(member, term, 1, now=at(1), images=[png(size=(200, 200), color=(1, 2, 3))])
    assert too_big.value.code == "image_too_large"
    settings.UPLOAD_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    with pytest.raises(ApplicationError) as too_many:
        submit(member, term, 1, now=at(1), images=[png() for _ in range(10)])
    assert too_many.value.code == "too_many_images"
    task = camp.tasks.get(day=1)
    task.requires_image = True
    task.save()
    with pytest.raises(ApplicationError) as needs_image:
        submit(member, term, 1, now=at(1))
    assert needs_image.value.code == "image_required"
    assert not CheckIn.objects.exists()
    ok = submit(member, term, 1, now=at(1), images=[png()])
    assert ok.images[0].startswith("courses/checkins/") and ok.images[0].endswith(".png")


@pytest.mark.django_db
def test_risky_text_is_refused_and_doubtful_text_waits_for_moderation(fixed_camp, courses_wechat):
    camp, term = fixed_camp
    member = joined(term)
    WeChatIdentity.objects.create(user=member, kind="miniprogram", appid="wx_test_miniprogram", openid="o_m1")
    courses_wechat.verdicts = {"加微信": "risky", "私聊": "review"}

    with pytest.raises(ApplicationError) as risky:
        submit(member, term, 1, now=at(1), text="加微信领资料")
    assert risky.value.code == "content_rejected" and "违规" in risky.value.message
    assert not CheckIn.objects.exists()
    assert courses_wechat.checked[-1] | {"content": ""} == {
        "content": "",
        "version": 2,
        "scene": 4,
        "openid": "o_m1",
    }

    held = submit(member, term, 1, now=at(1), text="有问题私聊我")
    assert held.status == "review" and held.points_awarded == 0
    assert seat_of(member, term).checkin_days == 0
    assert list(camp_review_queues.moderation_queue(user=camp.teacher)) == [held]
    assert list(camp_review_queues.review_queue(user=camp.teacher)) == []  # not reviewable until visible

    queue = api_for(camp.teacher).get("/api/v1/camps/moderation/").json()
    assert [c["id"] for c in queue] == [held.pk]
    rejected = api_for(camp.teacher).post(
        f"/api/v1/camps/checkins/{held.pk}/moderate/", {"approve": False, "note": "请勿引流"}, format="json"
    )
    assert rejected.json()["status"] == "rejected"
    assert Notification.objects.filter(user=member, kind="checkin_rejected", body="请勿引流").exists()
    # the member rewrites it; this time it passes
    again = submit(member, term, 1, now=at(1, 22), text="今天的收获是先写再改")
    assert again.pk == held.pk and again.status == "visible" and again.points_awarded == 10
    assert seat_of(member, term).checkin_days == 1


@pytest.mark.django_db
def test_moderators_approve_held_check_ins_and_points_follow(fixed_camp):
    camp, term = fixed_camp
    member = joined(term)
    WeChatIdentity.objects.create(user=member, kind="miniprogram", appid="wx_test_miniprogram", openid="o_m2")
    held = submit(member, term, 1, now=at(1))  # WeChat unreachable: held for a human (fail safe)
    assert held.status == "review"
    outsider = UserFactory()
    refused = api_for(outsider).post(
        f"/api/v1/camps/checkins/{held.pk}/moderate/", {"approve": True}, format="json"
    )
    assert refused.status_code == 403
    approved = api_for(camp.teacher).post(
        f"/api/v1/camps/checkins/{held.pk}/moderate/", {"approve": True}, format="json"
    )
    assert approved.json()["status"] == "visible" and approved.json()["points_awarded"] == 10
    assert PointsAccount.objects.get(user=member).balance == 10


@pytest.mark.django_db
def test_teacher_reviews_once_with_a_score_and_the_member_earns_points(fixed_camp):
    camp, term = fixed_camp
    member = joined(term)
    checkin = submit(member, term, 1, now=at(1))
    assistant = UserFactory(nickname="助教")
    camp.reviewers.add(assistant)

    stranger = api_for(UserFactory()).post(
        f"/api/v1/camps/checkins/{checkin.pk}/review/", {"comment": "好", "score": 5}, format="json"
    )
    assert stranger.status_code == 403
    bad = api_for(assistant).post(
        f"/api/v1/camps/checkins/{checkin.pk}/review/", {"comment": "好", "score": 9}, format="json"
    )
    assert bad.status_code == 400
    reviewed = api_for(assistant).post(
        f"/api/v1/camps/checkins/{checkin.pk}/review/", {"comment": "结构清晰", "score": 4}, format="json"
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["review"] | {"reviewed_at": None} == {
        "comment": "结构清晰",
        "score": 4,
        "points": 8,
        "reviewer": {"id": assistant.pk, "nickname": "助教", "avatar_url": ""},
        "reviewed_at": None,
    }
    seat = seat_of(member, term)
    assert seat.points == 18
    assert PointsAccount.objects.get(user=member).balance == 18
    assert Notification.objects.filter(user=member, kind="checkin_reviewed").count() == 1
    again = api_for(camp.teacher).post(
        f"/api/v1/camps/checkins/{checkin.pk}/review/", {"comment": "再点评", "score": 5}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"


@pytest.mark.django_db
def test_review_queue_is_ordered_by_waiting_time_and_shows_the_median(fixed_camp, client):
    camp, term = fixed_camp
    members = [joined(term) for _ in range(4)]
    checkins = [submit(m, term, 1, now=at(1)) for m in members]
    now = timezone.now()
    # waited 5 h, 1 h, 3 h, 2 h
    for checkin, hours in zip(checkins, (5, 1, 3, 2), strict=True):
        CheckIn.objects.filter(pk=checkin.pk).update(created_at=now - timedelta(hours=hours))
    queue = api_for(camp.teacher).get("/api/v1/camps/reviews/").json()
    assert [row["checkin"]["id"] for row in queue["results"]] == [
        checkins[0].pk,
        checkins[2].pk,
        checkins[3].pk,
        checkins[1].pk,
    ]
    assert queue["count"] == 4 and queue["median_seconds_to_review"] is None
    for checkin in (checkins[0], checkins[2], checkins[1]):  # reviewed after 5 h, 3 h and 1 h of waiting
        camp_reviews.checkin_review(checkin=checkin, reviewer=camp.teacher, comment="好", score=5)
    median = api_for(camp.teacher).get("/api/v1/camps/reviews/").json()["median_seconds_to_review"]
    assert median == pytest.approx(3 * 3600, abs=60)
    client.force_login(camp.teacher)
    html = client.get("/courses/camps/review/").content.decode()
    assert "3.0 小时" in html and f'data-checkin="{checkins[3].pk}"' in html
    # other teachers see nothing of this camp
    other_teacher = UserFactory()
    f.make_camp(teacher=other_teacher)
    assert api_for(other_teacher).get("/api/v1/camps/reviews/").json()["count"] == 0


@pytest.mark.django_db
def test_streaks_count_consecutive_days_and_a_make_up_mends_a_gap(fixed_camp):
    _camp, term = fixed_camp
    member = joined(term)
    submit(member, term, 1, now=at(1))
    submit(member, term, 2, now=at(2))
    submit(member, term, 4, now=at(4))
    seat = seat_of(member, term)
    assert (seat.streak, seat.best_streak, seat.checkin_days) == (1, 2, 3)
    assert seat.current_streak(START + timedelta(days=4)) == 1  # day 5 before checking in: still alive
    assert seat.current_streak(START + timedelta(days=5)) == 0  # day 6: broken
    submit(member, term, 3, now=at(5, 8))  # make-up of day 3 on day 5
    seat = seat_of(member, term)
    assert (seat.streak, seat.best_streak, seat.checkin_days) == (4, 4, 4)


@pytest.mark.django_db
def test_calendar_shows_every_day_of_the_term(fixed_camp):
    _camp, term = fixed_camp
    member = joined(term)
    submit(member, term, 1, now=at(1))
    seat = seat_of(member, term)
    days = camp_selectors.term_calendar(term=term, seat=seat, now=at(5))
    assert [d.state for d in days] == ["done", "missed", "makeup", "makeup", "today", "locked", "locked"]
    days = camp_selectors.term_calendar(term=term, seat=seat, now=at(4))
    assert [d.state for d in days] == ["done", "makeup", "makeup", "today", "locked", "locked", "locked"]
    response = api_for(member).get(f"/api/v1/camps/terms/{term.pk}/calendar/").json()
    assert len(response) == 7 and response[0]["task"]["title"] == "任务1"
    assert all(row["task"] is None for row in response if row["state"] == "locked")


@pytest.mark.django_db
def test_leaderboard_orders_by_points_and_costs_a_fixed_number_of_queries(
    fixed_camp, django_assert_max_num_queries
):
    _camp, term = fixed_camp
    me = joined(term)
    submit(me, term, 1, now=at(1))
    client = api_for(me)
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/api/v1/camps/terms/{term.pk}/leaderboard/").status_code == 200
    others = [joined(term) for _ in range(12)]
    for i, other in enumerate(others):
        for day in range(1, 1 + i % 4):
            submit(other, term, day, now=at(day))
    with django_assert_max_num_queries(6):
        board = client.get(f"/api/v1/camps/terms/{term.pk}/leaderboard/").json()
    with CaptureQueriesContext(connection) as big:
        client.get(f"/api/v1/camps/terms/{term.pk}/leaderboard/")
    assert len(small.captured_queries) == len(big.captured_queries)
    points = [row["points"] for row in board["results"]]
    assert points == sorted(points, reverse=True) and len(points) == 13
    my_rank = next(row["rank"] for row in board["results"] if row["member"]["id"] == me.pk)
    assert board["me"]["rank"] == my_rank
    from django.test import Client

    web = Client()
    web.force_login(me)
    web.get(f"/courses/camps/terms/{term.pk}/leaderboard/")
    with CaptureQueriesContext(connection) as page_small:
        assert web.get(f"/courses/camps/terms/{term.pk}/leaderboard/").status_code == 200
    joined(term)
    with CaptureQueriesContext(connection) as page_big:
        web.get(f"/courses/camps/terms/{term.pk}/leaderboard/")
    assert len(page_small.captured_queries) == len(page_big.captured_queries)


@pytest.mark.django_db
def test_completing_the_required_days_earns_a_certificate(fixed_camp, client):
    camp, term = fixed_camp
    camp.certificate_days = 2
    camp.save()
    member = joined(term)
    submit(member, term, 1, now=at(1))
    assert api_for(member).get(f"/api/v1/camps/terms/{term.pk}/certificate/").status_code == 404
    submit(member, term, 2, now=at(2))
    seat = seat_of(member, term)
    assert seat.completed_at is not None and seat.certificate_no.startswith("ZQ2603")
    assert Notification.objects.filter(user=member, kind="camp_completed").count() == 1
    cert = api_for(member).get(f"/api/v1/camps/terms/{term.pk}/certificate/").json()
    assert cert["certificate_no"] == seat.certificate_no
    client.force_login(member)
    image = client.get(cert["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1200, 850)
    submit(member, term, 3, now=at(3))  # more days never issue a second certificate
    assert seat_of(member, term).certificate_no == seat.certificate_no
    assert Notification.objects.filter(user=member, kind="camp_completed").count() == 1


@pytest.mark.django_db
def test_poster_carries_the_referral_link_qr(fixed_camp, monkeypatch, settings, client):
    import core.posters

    _camp, term = fixed_camp
    member = joined(term)
    submit(member, term, 1, now=at(1))
    seen = {}
    real = core.posters.render_poster

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(core.posters, "render_poster", spy)
    response = api_for(member).get(f"/api/v1/camps/terms/{term.pk}/poster.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (750, 1200)
    assert seen["qr_payload"] == f"{settings.SITE_URL}/r/{member.referral_code}/"
    assert seen["qr_png_bytes"] is None
    assert [label for _value, label in seen["stats"]] == ["连续打卡天数", "累计打卡天数", "本期积分"]
    assert api_for(UserFactory()).get(f"/api/v1/camps/terms/{term.pk}/poster.png").status_code == 403
    client.force_login(member)
    download = client.get(f"/courses/camps/terms/{term.pk}/poster.png?download=1")
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_poster_uses_a_mini_program_code_when_configured(fixed_camp, courses_wechat, settings, monkeypatch):
    import core.posters

    _camp, term = fixed_camp
    member = joined(term)
    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = "pages/index/index"
    seen = {}
    real = core.posters.render_poster
    monkeypatch.setattr(core.posters, "render_poster", lambda **kw: seen.update(kw) or real(**kw))

    assert api_for(member).get(f"/api/v1/camps/terms/{term.pk}/poster.png").status_code == 200
    assert courses_wechat.codes == [
        {
            "scene": f"r={member.referral_code}",
            "page": "pages/index/index",
            "check_path": True,
            "env_version": "release",
            "width": 430,
        }
    ]
    assert seen["qr_png_bytes"][:3] == b"\xff\xd8\xff"  # the JPEG WeChat returned
    api_for(member).get(f"/api/v1/camps/terms/{term.pk}/poster.png")
    assert len(courses_wechat.codes) == 1  # cached: WeChat's quota is not spent per view

    # a page WeChat does not know (41030): fall back to the web link QR
    settings.WECHAT_MINIPROGRAM_POSTER_PAGE = "pages/missing/index"
    assert api_for(member).get(f"/api/v1/camps/terms/{term.pk}/poster.png").status_code == 200
    assert seen["qr_png_bytes"] is None and seen["qr_payload"].endswith(f"/r/{member.referral_code}/")


@pytest.mark.django_db
def test_a_refunded_camp_seat_is_revoked_once_and_the_refund_window_closes_after_day_one(member):
    _camp, term = f.make_camp(price_fen=9_900, started_days_ago=-3)  # starts in three days
    order = f.buy(member, "camp", term.pk)
    assert seat_of(member, term).source == "purchase"
    assert refund_window_open(order)
    day_two = f.shanghai(term.start_date.year, term.start_date.month, term.start_date.day, 0, 0) + timedelta(
        days=1, minutes=1
    )
    assert not refund_window_open(order, now=day_two)
    f.refund(order)
    seat = seat_of(member, term)
    assert seat.status == "revoked"
    order.refresh_from_db()
    assert camp_seats.seat_revoke(order=order) is False
    assert api_for(member).get(f"/api/v1/camps/terms/{term.pk}/").json()["access"]["state"] == "buy"


@pytest.mark.django_db
def test_term_page_check_in_form_and_calendar_for_a_member(member, client):
    camp, term = f.make_camp(price_fen=0)
    client.force_login(member)
    page = client.get(f"/courses/camps/terms/{term.pk}/").content.decode()
    assert 'data-term-state="join"' in page and "join-button" in page
    client.post(f"/courses/camps/terms/{term.pk}/join/")
    page = client.get(f"/courses/camps/terms/{term.pk}/").content.decode()
    task = camp.tasks.get(day=3)
    assert 'data-term-state="joined"' in page and f'value="{task.pk}"' in page and "checkin-form" in page
    response = client.post(
        f"/courses/camps/terms/{term.pk}/checkin/",
        {"task_id": task.pk, "text": "网页打卡", "images": [png()]},
    )
    assert response.status_code == 302
    page = client.get(f"/courses/camps/terms/{term.pk}/").content.decode()
    assert "今日已打卡" in page and "网页打卡" in page
    # make-up form lists the missed days inside the window
    assert "提交补卡" in page and "第2天" in page
    calendar = client.get(f"/courses/camps/terms/{term.pk}/calendar/").content.decode()
    assert calendar.count('data-state="done"') == 1
    assert client.get(f"/courses/camps/{camp.pk}/").url == f"/courses/camps/terms/{term.pk}/"
    assert "21天写作训练营" in client.get("/courses/camps/").content.decode()
    mine = client.get("/courses/mine/").content.decode()
    assert "第1期" in mine


@pytest.mark.django_db
def test_a_full_term_refunds_a_payment_that_arrives_after_the_last_seat_went(member):
    from payments.gateways import sandbox
    from payments.models import Order
    from tests.courses.conftest import run_on_commit

    _camp, term = f.make_camp(price_fen=9_900)
    term.capacity = 1
    term.save()
    late = UserFactory()
    with run_on_commit():
        order = order_create(user=late, item_type="camp", item_id=str(term.pk), channel="sandbox")
        payment = payment_start(order=order, channel="sandbox")
    f.buy(member, "camp", term.pk)  # the last seat goes while `late` is at the cashier
    with run_on_commit():
        assert sandbox.sandbox_pay(payment.out_trade_no) == 204
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert not TermSeat.objects.filter(user=late).exists()
    assert Notification.objects.filter(user=late, kind="camp_full_refund").count() == 1
    newcomer = api_for(UserFactory())
    assert newcomer.get(f"/api/v1/camps/terms/{term.pk}/").json()["access"]["state"] == "full"
    refused = newcomer.post(f"/api/v1/camps/terms/{term.pk}/join/")
    assert refused.status_code == 409 and refused.json()["code"] == "term_full"
