"""Lesson drip (定时解锁): lessons released N days after the member's own start, or on a date.

A lesson the drip has not reached is locked even to an entitled member — on the course page, the
lesson page, the course API (`locked`, `unlocks_at`) and the lesson API (403 `lesson_not_released`
with `unlocks_at`, never `not_entitled`: the member already holds the course). The one selector that
decides is `courses.catalog.selectors.lesson_access`; what it reads costs no extra query.
"""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from courses import cache as catalog_cache
from courses.member_facts import entitlements
from courses.models import Lesson
from members.cache_versions import member_bump
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.factories import UserFactory

ENROLLED = f.shanghai(2026, 12, 1, 10, 30)


def _dripped_course(*, tiers=(), teacher=None):
    """Lesson 1 a free preview, lesson 2 open at once, lesson 3 on day 3, lesson 4 on 12月10日."""
    course = f.make_course(tiers=tiers, lessons=4, previews=1, teacher=teacher)
    lessons = list(course.lessons.order_by("position"))
    Lesson.objects.filter(pk=lessons[2].pk).update(release_after_days=3)
    Lesson.objects.filter(pk=lessons[3].pk).update(release_at=f.shanghai(2026, 12, 10))
    catalog_cache.bump()  # a queryset update sends no signal
    return course, [Lesson.objects.get(pk=lesson.pk) for lesson in lessons]


def _web(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def _rows(user, course) -> dict[int, dict]:
    return {row["id"]: row for row in api_for(user).get(f"/api/v1/courses/{course.pk}/").json()["lessons"]}


@pytest.mark.django_db
def test_days_after_enrolment_lock_the_lesson_until_that_day_in_pages_and_api(member):
    course, lessons = _dripped_course()
    with time_machine.travel(ENROLLED, tick=False):
        f.buy(member, "course", course.pk)
    day3 = lessons[2]

    with time_machine.travel(f.shanghai(2026, 12, 3, 23, 59), tick=False):
        rows = _rows(member, course)
        assert rows[day3.pk]["locked"] is True
        assert rows[day3.pk]["unlocks_at"] == "2026-12-04T00:00:00+08:00"
        assert rows[day3.pk]["unlock_text"] == "12月4日 解锁"
        assert (rows[lessons[1].pk]["locked"], rows[lessons[1].pk]["unlocks_at"]) == (False, None)

        refused = api_for(member).get(f"/api/v1/lessons/{day3.pk}/")
        assert refused.status_code == 403
        assert refused.json()["code"] == "lesson_not_released"
        assert refused.json()["unlocks_at"] == "2026-12-04T00:00:00+08:00"
        assert "12月4日" in refused.json()["message"]
        progress = api_for(member).post(
            f"/api/v1/lessons/{day3.pk}/progress/", {"position_seconds": 5}, format="json"
        )
        assert (progress.status_code, progress.json()["code"]) == (403, "lesson_not_released")

        web = _web(member)
        page = web.get(f"/courses/{course.pk}/").content.decode()
        assert f'data-lesson="{day3.pk}" data-locked="1" data-waiting="1"' in page
        assert "12月4日 解锁" in page
        locked = web.get(f"/courses/lessons/{day3.pk}/")
        assert locked.status_code == 403
        assert 'data-access-reason="not_released"' in locked.content.decode()
        assert "本课时将于12月4日 解锁" in locked.content.decode()
        assert "讲义 3" not in locked.content.decode()

    with time_machine.travel(f.shanghai(2026, 12, 4, 0, 0), tick=False):
        assert _rows(member, course)[day3.pk]["locked"] is False
        opened = api_for(member).get(f"/api/v1/lessons/{day3.pk}/")
        assert opened.status_code == 200 and opened.json()["body"] == "讲义 3"
        assert _web(member).get(f"/courses/lessons/{day3.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_release_date_holds_for_every_member_and_shows_to_those_without_the_course(vip, member):
    course, lessons = _dripped_course(tiers=[vip])
    dated = lessons[3]
    outsider = UserFactory()
    with time_machine.travel(f.shanghai(2026, 12, 9, 12), tick=False):
        f.give_tier(member, vip)
        rows = _rows(member, course)
        assert (rows[dated.pk]["locked"], rows[dated.pk]["unlocks_at"]) == (True, "2026-12-10T00:00:00+08:00")
        assert api_for(member).get(f"/api/v1/lessons/{dated.pk}/").json()["code"] == "lesson_not_released"
        # without the course: locked as before, no personal date, but the page says when it opens
        others = _rows(outsider, course)
        assert (others[dated.pk]["locked"], others[dated.pk]["unlocks_at"]) == (True, None)
        assert others[dated.pk]["unlock_text"] == "12月10日 解锁"
        assert others[lessons[2].pk]["unlock_text"] == "开通后第3天解锁"
        assert api_for(outsider).get(f"/api/v1/lessons/{dated.pk}/").json()["code"] == "not_entitled"
        assert "开通后第3天解锁" in _web(outsider).get(f"/courses/{course.pk}/").content.decode()
    with time_machine.travel(f.shanghai(2026, 12, 10, 0, 0, 1), tick=False):
        assert api_for(member).get(f"/api/v1/lessons/{dated.pk}/").status_code == 200
        assert api_for(outsider).get(f"/api/v1/lessons/{dated.pk}/").json()["code"] == "not_entitled"
        assert _rows(outsider, course)[dated.pk]["unlock_text"] == ""


@pytest.mark.django_db
def test_a_tier_member_counts_from_the_membership_start_and_a_buyer_keeps_the_earliest_start(vip, member):
    course, lessons = _dripped_course(tiers=[vip])
    day3 = lessons[2]
    with time_machine.travel(f.shanghai(2026, 12, 5, 9), tick=False):
        # give_tier starts the membership 10 days before now: 11月25日, so day 3 (11月28日) is open
        f.give_tier(member, vip)
        assert _rows(member, course)[day3.pk]["locked"] is False
        late = UserFactory()
        membership = f.give_tier(late, vip)
        membership.starts_at = f.shanghai(2026, 12, 4, 20)
        membership.save(update_fields=["starts_at"])
        member_bump(late.pk)
        assert _rows(late, course)[day3.pk]["unlocks_at"] == "2026-12-07T00:00:00+08:00"

    buyer = UserFactory()
    with time_machine.travel(f.shanghai(2026, 12, 1, 8), tick=False):
        f.buy(buyer, "course", course.pk)
    with time_machine.travel(f.shanghai(2026, 12, 4, 8), tick=False):
        f.give_tier(buyer, vip)  # a membership that (in this world) began 11月24日: earlier still
        assert _rows(buyer, course)[day3.pk]["locked"] is False
        assert api_for(buyer).get(f"/api/v1/lessons/{day3.pk}/").status_code == 200


@pytest.mark.django_db
def test_teachers_and_staff_see_every_lesson_at_once(teacher):
    course, lessons = _dripped_course(teacher=teacher)
    staff = UserFactory(is_staff=True)
    with time_machine.travel(f.shanghai(2026, 12, 1), tick=False):
        for user in (teacher, staff):
            assert not any(row["locked"] for row in _rows(user, course).values())
            assert api_for(user).get(f"/api/v1/lessons/{lessons[3].pk}/").status_code == 200


@pytest.mark.django_db
def test_refunding_the_course_locks_everything_again_as_before(member):
    course, lessons = _dripped_course()
    with time_machine.travel(ENROLLED, tick=False):
        order = f.buy(member, "course", course.pk)
    with time_machine.travel(f.shanghai(2026, 12, 2), tick=False):
        f.refund(order)
        assert api_for(member).get(f"/api/v1/lessons/{lessons[2].pk}/").json()["code"] == "not_entitled"
        assert api_for(member).get(f"/api/v1/lessons/{lessons[1].pk}/").json()["code"] == "not_entitled"


@pytest.mark.django_db
def test_a_lesson_carries_one_drip_rule_and_never_on_a_free_preview(member):
    course = f.make_course(lessons=2, previews=1)
    preview, paid = list(course.lessons.order_by("position"))
    paid.release_after_days, paid.release_at = 3, f.shanghai(2026, 12, 10)
    with pytest.raises(ValidationError, match="只能设置一个"):
        paid.full_clean()
    preview.release_after_days = 2
    with pytest.raises(ValidationError, match="免费试看"):
        preview.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=paid.pk).update(release_after_days=3, release_at=f.shanghai(2026, 12, 10))


@pytest.mark.django_db
def test_the_drip_costs_the_entitlement_read_no_extra_query(vip, member, django_assert_num_queries):
    course, _lessons = _dripped_course(tiers=[vip])
    f.give_tier(member, vip)
    f.buy(member, "course", f.make_course(price_fen=100).pk)
    # membership + the tiers it includes + the enrolments: the same 3 statements as before the drip
    with django_assert_num_queries(3):
        facts = entitlements(member, fresh=True)
    assert facts.tier_since is not None and len(facts.enrolled_since) == 1


@pytest.mark.django_db
def test_playback_heartbeat_progress_and_quiz_of_an_unreleased_lesson_say_when_it_opens(member):
    """The learning API (courses.learning) refuses as the lesson API does: `lesson_not_released`
    with `unlocks_at`, never `not_entitled`, and nothing is written."""
    from courses.models import LessonProgress
    from tests.courses.learning_helpers import make_quiz

    course, lessons = _dripped_course()
    with time_machine.travel(ENROLLED, tick=False):
        f.buy(member, "course", course.pk)
    day3 = lessons[2]
    client = api_for(member)
    with time_machine.travel(f.shanghai(2026, 12, 3, 12), tick=False):
        for path, body in (
            ("playback/", {"position_seconds": 0}),
            ("heartbeat/", {"session_id": "s:1", "position_seconds": 15, "playback_rate": 1}),
            ("progress/", {"position_seconds": 5}),
        ):
            refused = client.post(f"/api/v1/lessons/{day3.pk}/{path}", body, format="json")
            if path == "heartbeat/":  # no session was ever opened: refused before anything is read
                assert refused.status_code == 400
                continue
            assert (refused.status_code, refused.json()["code"]) == (403, "lesson_not_released"), path
            assert refused.json()["unlocks_at"] == "2026-12-04T00:00:00+08:00"
        make_quiz(day3)
        quiz = client.get(f"/api/v1/lessons/{day3.pk}/quiz/")
        assert (quiz.status_code, quiz.json()["code"]) == (403, "lesson_not_released")
    assert not LessonProgress.objects.filter(user=member, lesson=day3).exists()

    # A session opened while the lesson was open: the drip moved later meanwhile (an operator's edit),
    # so the next heartbeat is refused the same way and credits nothing.
    open_lesson = lessons[1]
    with time_machine.travel(f.shanghai(2026, 12, 2, 10), tick=False) as clock:
        started = client.post(
            f"/api/v1/lessons/{open_lesson.pk}/playback/", {"position_seconds": 0}, format="json"
        )
        assert started.status_code == 201
        Lesson.objects.filter(pk=open_lesson.pk).update(release_at=f.shanghai(2026, 12, 20))
        catalog_cache.bump()
        clock.shift(15)
        beat = client.post(
            f"/api/v1/lessons/{open_lesson.pk}/heartbeat/",
            {"session_id": started.json()["session_id"], "position_seconds": 15, "playback_rate": 1},
            format="json",
        )
    assert (beat.status_code, beat.json()["code"]) == (403, "lesson_not_released")
    assert beat.json()["unlocks_at"] == "2026-12-20T00:00:00+08:00"
    assert LessonProgress.objects.get(user=member, lesson=open_lesson).watched_seconds == 0
