"""The cached catalog (courses/cache.py): readers never see a stale catalog after a write, and a warm
cache is what makes the catalog and the course page cheap."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from courses.models import Course, Lesson
from members.cache_versions import shown_facts_bump
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def catalog(client) -> dict[int, dict]:
    response = client.get("/api/v1/courses/?page_size=100")
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()["results"]}


@pytest.fixture
def vip(db):
    return f.vip_tier()


@pytest.fixture
def teacher(db):
    return UserFactory(nickname="王老师")


@pytest.fixture
def course(vip, teacher):
    return f.make_course(title="私域增长", teacher=teacher, tiers=[vip], lessons=3, previews=1)


def test_every_write_the_catalog_shows_is_visible_at_once(course, vip, teacher):
    member = UserFactory()
    client = api(member)
    assert catalog(client)[course.pk]["title"] == "私域增长"  # warm

    Course.objects.filter(pk=course.pk).update(title="无信号")  # a queryset update sends no signal …
    course.title = "社群运营"
    course.save()  # … the admin and the services save: that bumps the version
    assert catalog(client)[course.pk]["title"] == "社群运营"

    Lesson.objects.create(course=course, title="新课", position=9, kind="text")
    assert catalog(client)[course.pk]["lesson_count"] == 4

    ka = f.ka_tier()
    course.included_in_tiers.add(ka)
    assert catalog(client)[course.pk]["included_in_tiers"] == ["VIP", "KA"]

    vip.code = "VIP2"
    vip.save()
    shown_facts_bump()  # what the tier editor does after saving
    assert catalog(client)[course.pk]["included_in_tiers"] == ["VIP2", "KA"]

    teacher.nickname = "王教授"
    teacher.save(update_fields=["nickname"])
    shown_facts_bump()  # what the members services and the user admin do after saving
    assert catalog(client)[course.pk]["teacher"]["nickname"] == "王教授"

    newer = f.make_course(title="新课程", teacher=teacher, lessons=1)
    assert set(catalog(client)) == {course.pk, newer.pk}

    newer.is_published = False
    newer.save()
    assert set(catalog(client)) == {course.pk}
    assert api(member).get(f"/api/v1/courses/{newer.pk}/").status_code == 404

    course.delete()
    assert catalog(client) == {}


def test_unlocked_stays_per_reader_while_the_rows_are_shared(course, vip):
    stranger, holder = UserFactory(), UserFactory()
    f.give_tier(holder, vip)
    assert catalog(api(stranger))[course.pk]["unlocked"] is False
    assert catalog(api(holder))[course.pk]["unlocked"] is True  # same cached row, other reader
    assert catalog(api())[course.pk]["unlocked"] is False


def test_course_page_follows_lesson_and_price_edits(course):
    member = UserFactory()
    client = api(member)
    first = client.get(f"/api/v1/courses/{course.pk}/").json()
    assert [row["title"] for row in first["lessons"]] == ["第1课", "第2课", "第3课"]
    assert first["price"]["amount_fen"] == 19_900

    lesson = course.lessons.get(position=2)
    lesson.is_published = False
    lesson.save()
    course.price_fen = 29_900
    course.description = "新介绍"
    course.save()

    page = client.get(f"/api/v1/courses/{course.pk}/").json()
    assert [row["title"] for row in page["lessons"]] == ["第1课", "第3课"]
    assert page["price"]["amount_fen"] == 29_900 and page["description"] == "新介绍"


def test_cached_answers_equal_fresh_ones(course, vip):
    """The same bytes whether the rows came from the database or from the cache."""
    holder = UserFactory()
    f.give_tier(holder, vip)
    client = api(holder)
    cold_list = client.get("/api/v1/courses/").content
    cold_page = client.get(f"/api/v1/courses/{course.pk}/").content
    assert client.get("/api/v1/courses/").content == cold_list
    assert client.get(f"/api/v1/courses/{course.pk}/").content == cold_page


def test_a_warm_cache_leaves_only_the_readers_own_queries(course, vip):
    holder = UserFactory()
    f.give_tier(holder, vip)
    client = api(holder)
    client.get("/api/v1/courses/")
    client.get(f"/api/v1/courses/{course.pk}/")
    # The member's entitlements come from the cache too: the catalog reads no table at all, the course
    # page only this member's progress in it.
    for path, reader_tables in (
        ("/api/v1/courses/", set()),
        (f"/api/v1/courses/{course.pk}/", {"courses_lessonprogress"}),
    ):
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        statements = list(captured.captured_queries)  # now: the next request clears the query log
        tables = {q["sql"].split(" FROM ")[1].split()[0].strip('"') for q in statements}
        assert tables == reader_tables, statements


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reader_during_an_uncommitted_edit_does_not_keep_it_stale(course):
    """A reader rebuilding the cache between the write's bump and its commit caches the old title
    under the new version; the bump after commit makes that entry unreachable."""
    client = api(UserFactory())
    catalog(client)
    seen = {}
    with transaction.atomic():
        course.title = "改名中"
        course.save()  # bumped now; not committed yet

        def read():
            seen["title"] = catalog(client)[course.pk]["title"]
            connection.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
    assert seen["title"] == "私域增长"  # the reader saw the committed past, and cached it
    assert catalog(client)[course.pk]["title"] == "改名中"  # … but never serves it after the commit


def test_every_page_of_the_cached_catalog_matches_the_database(vip, teacher):
    """Pages come from the cache by (start, size); the last one stops at the count, as the paginator does."""
    courses = [f.make_course(title=f"课程{i:02d}", teacher=teacher, lessons=1) for i in range(17)]
    expected = [
        c.pk
        for c in Course.objects.filter(pk__in=[c.pk for c in courses]).order_by(
            "sort_order", "-created_at", "id"
        )
    ]
    client = api(UserFactory())
    seen = []
    for number in (1, 2, 3):
        for _round in range(2):  # cold, then warm: the same rows
            body = client.get(f"/api/v1/courses/?page={number}&page_size=7").json()
            assert body["count"] == 17
        seen += [row["id"] for row in body["results"]]
        assert len(body["results"]) == (7 if number < 3 else 3)
    assert seen == expected
    assert client.get("/api/v1/courses/?page=4&page_size=7").status_code == 404
    assert client.get("/api/v1/courses/?page=last&page_size=7").json()["results"][-1]["id"] == expected[-1]
    assert client.get("/api/v1/courses/?page=x").status_code == 404
