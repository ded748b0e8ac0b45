"""Who may open what: (non-member, VIP, KA, buyer, expired member, refunded buyer) ×
(preview lesson, paid lesson, event, camp), on the pages AND through the API — every cell asserted.

The world: a course included in VIP (one preview lesson, paid lessons, ¥199), an offline event included in
VIP (¥299; VIP gets one free event per membership year, KA unlimited) and a camp included in KA only
(¥99) with a running term. The expired member held KA; the buyer bought the item of the column; the
refunded buyer bought it and got a full refund.
"""

from __future__ import annotations

import pytest

from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory

PERSONAS = ["non_member", "vip", "ka", "buyer", "expired", "refunded"]
COLUMNS = ["preview_lesson", "paid_lesson", "event", "camp"]

# What each persona gets: lessons → "open"/reason; event and camp → the access state.
EXPECTED = {
    "preview_lesson": {p: "open" for p in PERSONAS},
    "paid_lesson": {
        "non_member": "buy",
        "vip": "open",
        "ka": "open",
        "buyer": "open",
        "expired": "membership_expired",
        "refunded": "buy",
    },
    "event": {
        "non_member": "buy",
        "vip": "free_for_member",
        "ka": "free_for_member",
        "buyer": "registered",
        "expired": "membership_expired",
        "refunded": "buy",
    },
    "camp": {
        "non_member": "buy",
        "vip": "buy",  # the camp is KA-only: VIP ranks below it
        "ka": "join_free",
        "buyer": "joined",
        "expired": "membership_expired",
        "refunded": "buy",
    },
}


@pytest.fixture
def world(vip, ka):
    f.set_quota(vip, 1)
    course = f.make_course(tiers=[vip], price_fen=19_900)
    event = f.make_event(tiers=[vip], price_fen=29_900)
    _camp, term = f.make_camp(tiers=[ka], price_fen=9_900)
    return {"vip": vip, "ka": ka, "course": course, "event": event, "term": term}


def _item(world, column):
    if column in ("preview_lesson", "paid_lesson"):
        return "course", world["course"].pk
    if column == "event":
        return "event", world["event"].pk
    return "camp", world["term"].pk


def make_persona(persona: str, world, column: str):
    user = UserFactory()
    if persona == "vip":
        f.give_tier(user, world["vip"])
    elif persona == "ka":
        f.give_tier(user, world["ka"])
    elif persona == "expired":
        f.give_tier(user, world["ka"], expired=True)
    elif persona in ("buyer", "refunded"):
        item_type, item_id = _item(world, column)
        order = f.buy(user, item_type, item_id)
        if persona == "refunded":
            f.refund(order)
            order.refresh_from_db()
            assert order.status == "refunded"
    return user


def _check_lesson(client, web, lesson, expected):
    api = client.get(f"/api/v1/lessons/{lesson.pk}/")
    page = web.get(f"/courses/lessons/{lesson.pk}/")
    if expected == "open":
        assert api.status_code == 200, api.content
        assert api.json()["body"] == lesson.body and api.json()["media_url"] == lesson.media_url
        assert page.status_code == 200
        assert lesson.media_url in page.content.decode()
    else:
        assert api.status_code == 403
        assert api.json()["code"] == "not_entitled"
        assert lesson.media_url not in api.content.decode()
        assert page.status_code == 403
        html = page.content.decode()
        assert 'data-lesson-access="locked"' in html and f'data-access-reason="{expected}"' in html
        assert lesson.media_url not in html
    # The course page and API agree with the lesson endpoints on the lock.
    detail = client.get(f"/api/v1/courses/{lesson.course_id}/").json()
    row = next(r for r in detail["lessons"] if r["id"] == lesson.pk)
    assert row["locked"] is (expected != "open")
    course_page = web.get(f"/courses/{lesson.course_id}/").content.decode()
    assert f'data-lesson="{lesson.pk}" data-locked="{0 if expected == "open" else 1}"' in course_page


def _check_event(client, web, event, expected):
    api = client.get(f"/api/v1/events/{event.pk}/").json()
    assert api["access"]["state"] == expected
    assert f'data-event-state="{expected}"' in web.get(f"/courses/events/{event.pk}/").content.decode()
    registered = client.post(f"/api/v1/events/{event.pk}/register/")
    if expected in ("free_for_member", "registered"):
        # entitled: a ticket without paying (or the one already bought)
        assert registered.status_code == 201
        assert registered.json()["status"] == "confirmed" and registered.json()["ticket_code"]
        assert client.get(f"/api/v1/events/{event.pk}/").json()["access"]["state"] == "registered"
    else:
        # must pay: the seat is held for checkout, no ticket yet
        assert registered.status_code == 201
        body = registered.json()
        assert body["status"] == "pending" and body["ticket_code"] is None and body["checkout_url"]


def _check_camp(client, web, term, expected):
    api = client.get(f"/api/v1/camps/terms/{term.pk}/").json()
    assert api["access"]["state"] == expected
    assert f'data-term-state="{expected}"' in web.get(f"/courses/camps/terms/{term.pk}/").content.decode()
    if expected == "join_free":
        assert client.post(f"/api/v1/camps/terms/{term.pk}/join/").status_code == 201
    calendar = client.get(f"/api/v1/camps/terms/{term.pk}/calendar/")
    if expected in ("joined", "join_free"):
        assert calendar.status_code == 200 and len(calendar.json()) == term.days
        assert api["today_task"] is not None or expected == "join_free"
    else:
        assert calendar.status_code == 403 and calendar.json()["code"] == "not_entitled"
        assert api["today_task"] is None
        assert client.post(f"/api/v1/camps/terms/{term.pk}/join/").json()["code"] == "not_entitled"


@pytest.mark.django_db
@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_entitlement_matrix_cell(world, persona, column, client):
    user = make_persona(persona, world, column)
    api = api_for(user)
    client.force_login(user)
    expected = EXPECTED[column][persona]
    if column == "preview_lesson":
        _check_lesson(api, client, f.preview_lesson(world["course"]), expected)
    elif column == "paid_lesson":
        _check_lesson(api, client, f.paid_lesson(world["course"]), expected)
    elif column == "event":
        _check_event(api, client, world["event"], expected)
    else:
        _check_camp(api, client, world["term"], expected)


@pytest.mark.django_db
def test_anonymous_visitors_see_previews_and_locks_but_no_paid_content(world, client):
    course = world["course"]
    preview, paid = f.preview_lesson(course), f.paid_lesson(course)
    anon = api_for()
    assert anon.get(f"/api/v1/lessons/{preview.pk}/").status_code == 200
    refused = anon.get(f"/api/v1/lessons/{paid.pk}/")
    assert refused.status_code == 401 and paid.media_url not in refused.content.decode()
    listing = anon.get("/api/v1/courses/").json()
    assert listing["results"][0]["included_in_tiers"] == ["VIP"]
    assert listing["results"][0]["unlocked"] is False
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert 'data-course-access="locked"' in page and "登录后学习" in page
    assert client.get(f"/courses/lessons/{paid.pk}/").status_code == 403
    assert anon.get(f"/api/v1/camps/terms/{world['term'].pk}/").json()["access"]["state"] == "login"


@pytest.mark.django_db
def test_non_member_sees_locks_and_a_buy_button_with_the_price(world, client, member):
    client.force_login(member)
    html = client.get(f"/courses/{world['course'].pk}/").content.decode()
    assert "buy-button" in html and "¥199" in html
    assert "开通会员免费学" in html


@pytest.mark.django_db
def test_unpublished_lessons_and_courses_are_404_for_everyone(world, member):
    course = world["course"]
    lesson = f.paid_lesson(course)
    lesson.is_published = False
    lesson.save()
    assert api_for(member).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 404
    course.is_published = False
    course.save()
    assert api_for(member).get(f"/api/v1/courses/{course.pk}/").status_code == 404
    assert api_for(member).get(f"/api/v1/lessons/{f.preview_lesson(course).pk}/").status_code == 404
