"""Courses: buying (with the tier discount), refunds revoke once, points redemption, progress, and
fixed query counts for the catalog and the course page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Course, CourseEnrolment, LessonProgress
from members.models import PointsAccount
from payments import items
from payments.models import Order
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory


@pytest.mark.django_db
def test_tier_members_get_their_tier_discount_as_a_quote_line(vip, ka, member):
    course = f.make_course(price_fen=29_900, tiers=[])  # sold singly, not included in any tier
    f.give_tier(member, vip)
    quote = items.quote(user=member, item_type="course", item_id=str(course.pk))
    assert quote.list_price_fen == 29_900
    assert [(line.label, line.amount_fen) for line in quote.lines] == [("VIP会员专享折扣", -2_990)]
    assert quote.amount_fen == 26_910
    stranger = UserFactory()
    assert items.quote(user=stranger, item_type="course", item_id=str(course.pk)).amount_fen == 29_900
    # the API shows the same price the checkout will charge
    detail = api_for(member).get(f"/api/v1/courses/{course.pk}/").json()
    assert detail["price"]["amount_fen"] == 26_910 and detail["price"]["lines"][0]["amount_fen"] == -2_990


@pytest.mark.django_db
def test_buying_an_included_or_unsold_course_is_refused_with_a_clear_code(vip, ka, member):
    included = f.make_course(price_fen=19_900, tiers=[vip])
    ka_only = f.make_course(price_fen=0, tiers=[ka])
    f.give_tier(member, ka)
    with pytest.raises(items.ItemUnavailable) as owned:
        items.quote(user=member, item_type="course", item_id=str(included.pk))
    assert owned.value.code == "already_entitled"
    with pytest.raises(items.ItemUnavailable) as unsold:
        items.quote(user=UserFactory(), item_type="course", item_id=str(ka_only.pk))
    assert unsold.value.code == "not_for_sale"
    with pytest.raises(items.ItemUnavailable):
        items.quote(user=member, item_type="course", item_id="not-a-number")


@pytest.mark.django_db
def test_purchase_enrols_and_a_refund_revokes_exactly_once_then_buying_again_restores(member):
    course = f.make_course(price_fen=19_900)
    lesson = f.paid_lesson(course)
    order = f.buy(member, "course", course.pk)
    assert order.amount_fen == 19_900
    assert api_for(member).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 200
    enrolment = CourseEnrolment.objects.get(user=member, course=course)
    assert (enrolment.source, enrolment.status, enrolment.order_no) == ("purchase", "active", order.order_no)

    f.refund(order)
    enrolment.refresh_from_db()
    assert enrolment.status == "revoked" and enrolment.revoked_at is not None
    assert api_for(member).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 403
    # the item type's revoke again (e.g. a duplicate refund notification) changes nothing
    from courses.catalog import services as catalog_services

    assert catalog_services.enrolment_revoke(order_no=order.order_no) is False

    second = f.buy(member, "course", course.pk)
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.order_no) == ("active", second.order_no)
    assert CourseEnrolment.objects.filter(user=member, course=course).count() == 1
    # a late revoke for the first order does not touch the second purchase
    assert catalog_services.enrolment_revoke(order_no=order.order_no) is False
    assert api_for(member).get(f"/api/v1/lessons/{lesson.pk}/").status_code == 200


@pytest.mark.django_db
def test_partial_refund_keeps_the_course(member):
    course = f.make_course(price_fen=19_900)
    order = f.buy(member, "course", course.pk)
    from tests.payments.helpers import refund_order

    refund_order(order=order, amount_fen=5_000)
    assert CourseEnrolment.objects.get(user=member, course=course).status == "active"


@pytest.mark.django_db
def test_points_redemption_enrols_through_the_item_type(member, ka):
    from members.points.services import points_award
    from payments.orders.checkout import order_create_free

    course = f.make_course(price_fen=0, tiers=[ka])  # not sold for money: points or KA only
    points_award(user=member, amount=500, reason="测试", idempotency_key="t:1")
    order = order_create_free(user=member, item_type="course", item_id=str(course.pk), reason="积分兑换")
    assert order.status == Order.Status.PAID and order.amount_fen == 0
    enrolment = CourseEnrolment.objects.get(user=member, course=course)
    assert (enrolment.source, enrolment.order_no) == ("points", order.order_no)
    detail = api_for(member).get(f"/api/v1/courses/{course.pk}/").json()
    assert detail["access"] == {"unlocked": True, "via": "points", "reason": "", "message": ""}
    assert PointsAccount.objects.get(user=member).balance == 500  # spending is the mall's business


@pytest.mark.django_db
def test_progress_is_saved_completion_is_sticky_and_course_percent_follows(member):
    course = f.make_course(price_fen=19_900, lessons=4)
    f.buy(member, "course", course.pk)
    lessons = list(course.lessons.order_by("position"))
    client = api_for(member)
    saved = client.post(
        f"/api/v1/lessons/{lessons[1].pk}/progress/", {"position_seconds": 120}, format="json"
    )
    assert saved.status_code == 200
    assert saved.json() == {
        "lesson_id": lessons[1].pk,
        "position_seconds": 120,
        "completed": False,
        "course_completion_percent": 0,
    }
    # a position near the end is only a position: watched time decides (tests/courses/test_learning_*)
    near_end = client.post(
        f"/api/v1/lessons/{lessons[1].pk}/progress/", {"position_seconds": 545}, format="json"
    )
    assert near_end.json()["completed"] is False
    # positions a little beyond the lesson are clamped
    client.post(f"/api/v1/lessons/{lessons[2].pk}/progress/", {"position_seconds": 603}, format="json")
    assert LessonProgress.objects.get(user=member, lesson=lessons[2]).position_seconds == 600
    # learned by the server's rule (here: watched), completion is sticky when seeking back
    LessonProgress.objects.filter(user=member, lesson__in=lessons[1:]).update(completed=True)
    LessonProgress.objects.create(user=member, lesson=lessons[3], course=course, completed=True)
    back = client.post(f"/api/v1/lessons/{lessons[1].pk}/progress/", {"position_seconds": 10}, format="json")
    assert back.json()["completed"] is True and back.json()["position_seconds"] == 10
    detail = client.get(f"/api/v1/courses/{course.pk}/").json()
    assert detail["completion_percent"] == 75
    assert [r["completed"] for r in detail["lessons"]] == [False, True, True, True]
    assert client.get(f"/api/v1/lessons/{lessons[1].pk}/").json()["position_seconds"] == 10
    mine = client.get("/api/v1/courses/mine/").json()
    assert mine == [{"id": course.pk, "title": course.title, "cover_url": "", "completion_percent": 75}]


@pytest.mark.django_db
def test_progress_on_a_locked_lesson_is_refused(member):
    course = f.make_course(price_fen=19_900)
    response = api_for(member).post(
        f"/api/v1/lessons/{f.paid_lesson(course).pk}/progress/", {"position_seconds": 5}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    assert not LessonProgress.objects.exists()
    bad = api_for(member).post(
        f"/api/v1/lessons/{f.preview_lesson(course).pk}/progress/", {"position_seconds": -3}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


@pytest.mark.django_db
def test_lesson_page_plays_and_links_neighbours(member, client):
    course = f.make_course(price_fen=19_900, lessons=3)
    f.buy(member, "course", course.pk)
    lessons = list(course.lessons.order_by("position"))
    client.force_login(member)
    html = client.get(f"/courses/lessons/{lessons[1].pk}/").content.decode()
    assert lessons[1].media_url in html and f"/api/v1/lessons/{lessons[1].pk}/progress/" in html
    assert f"/courses/lessons/{lessons[0].pk}/" in html and f"/courses/lessons/{lessons[2].pk}/" in html
    api = api_for(member).get(f"/api/v1/lessons/{lessons[1].pk}/").json()
    assert (api["previous_id"], api["next_id"]) == (lessons[0].pk, lessons[2].pk)


def _fill_catalog(vip, ka, n):
    for i in range(n):
        f.make_course(title=f"课程{i}", tiers=[vip, ka][: i % 3], price_fen=1000 * (i % 2), lessons=3)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "member", "vip"])
def test_catalog_query_count_is_fixed(vip, ka, who, django_assert_max_num_queries):
    user = None if who == "anonymous" else UserFactory()
    if who == "vip":
        f.give_tier(user, vip)
    client = api_for(user)
    _fill_catalog(vip, ka, 2)
    client.get("/api/v1/courses/")  # the cached catalog (courses/cache.py) warm, as readers find it
    # Counted at once: `captured_queries` is read lazily and the next request clears the query log.
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/courses/").status_code == 200
    small = len(captured.captured_queries)
    _fill_catalog(vip, ka, 25)
    if who == "member":
        for course in Course.objects.filter(price_fen__gt=0, included_in_tiers=None)[:3]:
            f.buy(user, "course", course.pk)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/courses/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/courses/")
    assert small == len(captured.captured_queries)
    assert response.json()["count"] == 27 and len(response.json()["results"]) == 20
    # the page costs the same
    from django.test import Client

    web = Client()
    if user is not None:
        web.force_login(user)
    web.get("/courses/")
    with CaptureQueriesContext(connection) as captured:
        web.get("/courses/")
    page_small = len(captured.captured_queries)
    _fill_catalog(vip, ka, 5)
    web.get("/courses/")  # the catalog changed: the member's cached entitlements are read again once
    with CaptureQueriesContext(connection) as captured:
        assert web.get("/courses/").status_code == 200
    assert page_small == len(captured.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "non_member", "buyer", "vip"])
def test_course_page_query_count_is_fixed(vip, who, django_assert_max_num_queries):
    user = None if who == "anonymous" else UserFactory()
    course = f.make_course(tiers=[vip], lessons=2)
    if who == "vip":
        f.give_tier(user, vip)
    elif who == "buyer":
        f.buy(user, "course", course.pk)
    client = api_for(user)
    from django.test import Client

    web = Client()
    if user is not None:
        web.force_login(user)
    web.get(f"/courses/{course.pk}/")  # warm the session
    client.get(f"/api/v1/courses/{course.pk}/")  # and the cached course page (courses/cache.py)
    # Counted at once: `captured_queries` is read lazily and the next request clears the query log.
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/v1/courses/{course.pk}/").status_code == 200
    small = len(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        assert web.get(f"/courses/{course.pk}/").status_code == 200
    page_small = len(captured.captured_queries)
    from courses.models import Lesson

    for i in range(30):
        Lesson.objects.create(
            course=course, title=f"加课{i}", position=10 + i, kind="text", is_preview=i % 2 == 0
        )
    if user is not None:
        for lesson in course.lessons.all()[:10]:
            LessonProgress.objects.create(user=user, lesson=lesson, course=course, position_seconds=5)
    # 10: the price goes through every quote adjuster (a running flash sale, a promoter's price) so it
    # is the price the order will charge.
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/v1/courses/{course.pk}/")
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/api/v1/courses/{course.pk}/")
    assert small == len(captured.captured_queries)
    assert len(response.json()["lessons"]) == 32
    web.get(f"/courses/{course.pk}/")  # the page's cached course, rebuilt after the lessons were added
    with CaptureQueriesContext(connection) as captured:
        assert web.get(f"/courses/{course.pk}/").status_code == 200
    assert page_small == len(captured.captured_queries)


@pytest.mark.django_db
def test_the_player_page_saves_progress_through_the_api_with_its_csrf_token(member):
    """What courses.js does: read data-csrf from the page, POST JSON with the session cookie."""
    import re

    from django.test import Client

    course = f.make_course(price_fen=19_900)
    f.buy(member, "course", course.pk)
    lesson = f.paid_lesson(course)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    html = browser.get(f"/courses/lessons/{lesson.pk}/").content.decode()
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    url = re.search(r'data-progress-url="([^"]+)"', html).group(1)
    refused = browser.post(url, {"position_seconds": 30}, content_type="application/json")
    assert refused.status_code == 403  # no token, no write
    saved = browser.post(
        url, {"position_seconds": 30}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert saved.status_code == 200 and saved.json()["position_seconds"] == 30
    assert 'data-position="30"' in browser.get(f"/courses/lessons/{lesson.pk}/").content.decode()
