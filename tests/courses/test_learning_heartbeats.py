"""Completion the server vouches for: heartbeats credit only what real time allows, seeks past unwatched
parts count nothing, one device at a time, text lessons by their reading rule, and a client's
`completed: true` alone changes nothing. The clock is time-machine's, moved by the test."""

from __future__ import annotations

import pytest
import time_machine

from courses.learning import playback
from courses.models import CourseCompletion, Lesson, LessonProgress
from tests.courses import factories as f
from tests.courses.conftest import api_for
from tests.courses.learning_helpers import START, Player, first_lesson, progress_state, video_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_watching_in_real_time_marks_the_lesson_learned_at_the_courses_percent(member, vip, clock):
    course = video_course(member=member, tier=vip, length=100, percent=90)
    lesson = first_lesson(course)
    player = Player(member, lesson, clock)
    started = player.start()
    assert started.status_code == 201
    body = started.json()
    assert body["heartbeat_seconds"] == 15 and body["complete_at_percent"] == 90
    assert body["watched_seconds"] == 0 and body["completed"] is False

    seventy_five = player.watch(0, 75)
    assert seventy_five.json() == {
        "outcome": "credited",
        "accepted_seconds": 15,
        "position_seconds": 75,
        "watched_seconds": 75,
        "watched_percent": 75,
        "complete_at_percent": 90,
        "completed": False,
    }
    done = player.beat(90)
    assert done.json()["completed"] is True and done.json()["watched_percent"] == 90
    progress = player.progress()
    assert progress.completed and progress.completed_at == START + _seconds(90)
    # seeking back and watching again keeps it learned and counts nothing twice
    assert player.beat(10, after=2).json()["outcome"] == "seek"
    again = player.beat(25)
    assert again.json()["accepted_seconds"] == 0 and again.json()["completed"] is True


def _seconds(n):
    from datetime import timedelta

    return timedelta(seconds=n)


def test_a_heartbeat_faster_than_real_time_credits_nothing(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    player = Player(member, lesson, clock)
    player.start()
    # 60 s of video claimed 15 s after the start: a jump, not watching
    fast = player.beat(60, after=15)
    assert fast.status_code == 200
    assert fast.json()["outcome"] == "seek" and fast.json()["accepted_seconds"] == 0
    assert player.progress().watched_seconds == 0 and not player.progress().completed
    # at 2× a player covers 30 s in 15 s: credited; at "3×" it is credited as 2× at most
    assert player.beat(90, after=15, rate=2).json()["accepted_seconds"] == 30
    assert player.beat(135, after=15, rate=3).json()["outcome"] == "seek"
    assert player.progress().watched_seconds == 30


def test_heartbeats_sent_in_a_burst_are_not_credited_until_real_time_passed(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    player = Player(member, lesson, clock)
    player.start()
    player.watch(0, 15)
    before = progress_state(member, lesson)
    for position in (16, 17, 18):  # every second: each within slack of the anchor, none credited
        burst = player.beat(position, after=1)
        assert burst.json()["outcome"] == "too_soon" and burst.json()["accepted_seconds"] == 0
    assert progress_state(member, lesson) == before
    # the next regular heartbeat is measured from the anchor, not from the burst
    assert player.beat(32, after=12).json()["accepted_seconds"] == 17
    assert player.progress().watched_seconds == 32


def test_seeking_past_unwatched_parts_counts_only_what_was_played(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=100, percent=90))
    player = Player(member, lesson, clock)
    player.start()
    player.watch(0, 30)
    assert player.beat(80, after=2).json()["outcome"] == "seek"  # dragged to 80 s
    player.watch(80, 95)
    progress = player.progress()
    assert progress.watched_seconds == 45 and not progress.completed
    assert progress.position_seconds == 95
    # the bitmap holds exactly the seconds played: 0–29 and 80–94
    bits = int.from_bytes(bytes(progress.watched), "little")
    assert [n for n in range(100) if bits >> n & 1] == [*range(30), *range(80, 95)]
    # a long pause is not a credit: the gap counted is at most a minute
    paused = player.beat(100, after=600)
    assert paused.json()["accepted_seconds"] == 5


def test_a_position_beyond_the_lessons_length_is_refused_and_changes_nothing(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=100))
    player = Player(member, lesson, clock)
    player.start(position=90)
    before = progress_state(member, lesson)
    beyond = player.beat(500, after=15)
    assert beyond.status_code == 400 and beyond.json()["code"] == "position_beyond_length"
    assert progress_state(member, lesson) == before
    # a media file running a few seconds past the stated length is capped at it
    capped = player.beat(103, after=5)
    assert capped.status_code == 200 and capped.json()["position_seconds"] == 100
    assert player.progress().watched_seconds == 10
    too_far = Player(member, lesson, clock).start(position=200)
    assert too_far.status_code == 400 and too_far.json()["code"] == "position_beyond_length"


def test_two_devices_only_the_latest_session_counts(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    phone = Player(member, lesson, clock)
    laptop = Player(member, lesson, clock)
    phone.start()
    phone.watch(0, 30)
    laptop.start(position=30)  # the member opens the lesson on a second device
    before = progress_state(member, lesson)
    old = phone.beat(45, after=15)
    assert old.status_code == 409 and old.json()["code"] == "playback_superseded"
    assert progress_state(member, lesson) == before
    assert laptop.beat(45, after=0).json()["accepted_seconds"] == 15  # the laptop's anchor: 15 s ago
    # both playing at once, alternating: the replaced one never adds anything
    for position in (60, 75):
        assert phone.beat(position, after=7).status_code == 409
        assert laptop.beat(position, after=8).json()["outcome"] == "credited"
    assert player_watched(member, lesson) == 75
    # pressing play on the phone takes the lesson back; the laptop is told so
    phone.start(position=75)
    assert laptop.beat(90, after=15).json()["code"] == "playback_superseded"


def player_watched(user, lesson) -> int:
    return LessonProgress.objects.get(user=user, lesson=lesson).watched_seconds


def test_an_unknown_or_foreign_session_is_refused_and_changes_nothing(member, vip, clock):
    course = video_course(member=member, tier=vip, lessons=2, length=600)
    lesson, other_lesson = list(course.lessons.order_by("position"))
    player = Player(member, lesson, clock)
    player.start()
    player.watch(0, 15)
    before = progress_state(member, lesson)
    other = Player(member, other_lesson, clock)
    other.start()
    someone = UserFactory()
    f.give_tier(someone, vip, now=START)
    stranger = Player(someone, lesson, clock)
    stranger.start()
    for token in ("made-up", player.session + "x", other.session, stranger.session, ""):
        refused = player.beat(30, session=token)
        assert refused.status_code == 400, token
        assert refused.json()["code"] in ("playback_session_unknown", "invalid")
    assert progress_state(member, lesson) == before


def test_a_clients_completed_true_alone_marks_nothing(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    said = api_for(member).post(
        f"/api/v1/lessons/{lesson.pk}/progress/", {"position_seconds": 600, "completed": True}, format="json"
    )
    assert said.status_code == 200
    assert said.json() == {
        "lesson_id": lesson.pk,
        "position_seconds": 600,
        "completed": False,
        "course_completion_percent": 0,
    }
    progress = LessonProgress.objects.get(user=member, lesson=lesson)
    assert not progress.completed and progress.watched_seconds == 0
    assert not CourseCompletion.objects.exists()


def test_a_text_lesson_is_learned_only_after_its_reading_time(member, vip, clock):
    course = video_course(member=member, tier=vip, lessons=1, length=100)
    text = Lesson.objects.create(
        course=course, title="图文", position=9, kind=Lesson.Kind.TEXT, body="字" * 600
    )
    needed = playback.reading_seconds_required(text)
    assert needed == 40
    client = api_for(member)
    url = f"/api/v1/lessons/{text.pk}/progress/"
    unopened = client.post(url, {"position_seconds": 0, "completed": True}, format="json")
    assert unopened.status_code == 409 and unopened.json()["code"] == "reading_too_short"
    assert not LessonProgress.objects.filter(lesson=text).exists()
    opened = client.post(f"/api/v1/lessons/{text.pk}/playback/", {}, format="json")
    assert opened.status_code == 201 and opened.json()["reading_seconds_left"] == 40
    clock.shift(30)
    early = client.post(url, {"position_seconds": 0, "completed": True}, format="json")
    assert early.status_code == 409 and early.json()["reading_seconds_left"] == 10
    assert not LessonProgress.objects.get(lesson=text).completed
    # opening it again does not restart the clock; after the reading time "学完了" is accepted
    client.post(f"/api/v1/lessons/{text.pk}/playback/", {}, format="json")
    clock.shift(10)
    done = client.post(url, {"position_seconds": 0, "completed": True}, format="json")
    assert done.status_code == 200 and done.json()["completed"] is True
    # a text lesson has no heartbeats
    session = opened.json()["session_id"]
    beat = client.post(
        f"/api/v1/lessons/{text.pk}/heartbeat/", {"session_id": session, "position_seconds": 5}, format="json"
    )
    assert beat.status_code == 409 and beat.json()["code"] == "not_playable"


def test_heartbeats_stop_counting_when_the_membership_ends(member, vip, clock):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    player = Player(member, lesson, clock)
    player.start()
    player.watch(0, 30)
    before = progress_state(member, lesson)
    f.give_tier(member, vip, expired=True, now=START)
    refused = player.beat(45)
    assert refused.status_code == 403 and refused.json()["code"] == "not_entitled"
    assert progress_state(member, lesson) == before
    assert player.start().status_code == 403


def test_learning_every_lesson_completes_the_course_once(member, vip, clock):
    course = video_course(member=member, tier=vip, lessons=2, length=30, percent=90)
    for lesson in course.lessons.order_by("position"):
        player = Player(member, lesson, clock)
        player.start()
        player.watch(0, 30)
    done = CourseCompletion.objects.get(user=member, course=course)
    assert done.completed_at == START + _seconds(60) and done.certificate_no.startswith("ZQK")
    completion = api_for(member).get(f"/api/v1/courses/{course.pk}/completion/").json()
    assert completion["completed"] is True and completion["lessons_done"] == 2
    assert completion["certificate"]["certificate_no"] == done.certificate_no


def test_the_heartbeat_path_is_two_statements(member, vip, clock, django_assert_num_queries):
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    player = Player(member, lesson, clock)
    player.start()
    player.watch(0, 15)  # the course and the member's facts are now in the cache
    clock.shift(15)
    with django_assert_num_queries(2):  # read the progress row; compare-and-set it
        response = player.beat(30, after=0)
    assert response.json()["accepted_seconds"] == 15
    with django_assert_num_queries(1):  # a refused (replaced) session writes nothing
        Player(member, lesson, clock).client.post(
            f"/api/v1/lessons/{lesson.pk}/heartbeat/",
            {
                "session_id": playback.session_token(user_id=member.pk, lesson_id=lesson.pk, nonce="old"),
                "position_seconds": 45,
            },
            format="json",
        )


def test_a_redis_outage_slows_heartbeats_but_they_still_count(member, vip, clock, monkeypatch):
    from core import cache as core_cache

    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    player = Player(member, lesson, clock)
    player.start()
    monkeypatch.setattr(core_cache._Outage, "skip", classmethod(lambda cls: True))
    during = player.beat(15)
    assert during.status_code == 200 and during.json()["accepted_seconds"] == 15
