"""Learning under concurrency, on real PostgreSQL: two heartbeats of one session at once credit the
stretch once; two devices starting at once leave one session; two answer sheets at once never use
more attempts than allowed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courses.learning import playback, quizzes
from courses.models import LessonProgress, QuizAttempt
from tests.concurrency import run_together
from tests.courses import factories as f
from tests.courses.learning_helpers import (
    START,
    first_lesson,
    make_quiz,
    option_ids,
    question_ids,
    video_course,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _vip_member():
    member = UserFactory()
    return member, f.vip_tier()


def test_two_heartbeats_at_once_credit_the_stretch_once():
    member, vip = _vip_member()
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))
    state = playback.playback_start(user=member, lesson=lesson, now=START)
    beat_at = START + timedelta(seconds=15)

    def beat():
        return playback.playback_heartbeat(
            user=member, lesson_id=lesson.pk, session_id=state.session_id, position_seconds=15, now=beat_at
        )

    results = run_together([beat, beat])
    credited = [r for r in results if isinstance(r, playback.PlaybackState) and r.accepted_seconds]
    refused = [r for r in results if not isinstance(r, playback.PlaybackState)]
    assert len(credited) == 1, results
    assert all(getattr(r, "code", "") == "heartbeat_conflict" for r in refused), results
    assert LessonProgress.objects.get(user=member, lesson=lesson).watched_seconds == 15


def test_two_devices_starting_at_once_leave_one_session():
    member, vip = _vip_member()
    lesson = first_lesson(video_course(member=member, tier=vip, length=600))

    def start():
        return playback.playback_start(user=member, lesson=lesson, now=START)

    first, second = run_together([start, start])
    assert LessonProgress.objects.filter(user=member, lesson=lesson).count() == 1
    outcomes = []
    for state in (first, second):
        try:
            playback.playback_heartbeat(
                user=member,
                lesson_id=lesson.pk,
                session_id=state.session_id,
                position_seconds=15,
                now=START + timedelta(seconds=15),
            )
            outcomes.append("credited")
        except Exception as exc:  # noqa: BLE001 - the refusal is what is asserted
            outcomes.append(exc.code)
    assert sorted(outcomes) == ["credited", "playback_superseded"]


def test_two_answer_sheets_at_once_use_one_attempt_each_up_to_the_limit():
    member, vip = _vip_member()
    lesson = first_lesson(video_course(member=member, tier=vip))
    lesson.course.refresh_from_db()
    quiz = make_quiz(lesson, max_attempts=1)
    options, questions = option_ids(quiz), question_ids(quiz)
    wrong = {questions[0]: [options["A2"]], questions[1]: [options["B2"]]}

    def answer():
        return quizzes.quiz_submit(user=member, lesson=lesson, answers=wrong)

    results = run_together([answer, answer])
    assert QuizAttempt.objects.filter(user=member).count() == 1
    codes = sorted(getattr(r, "code", "ok") for r in results)
    assert codes[0] != "ok" or codes[1] != "ok", results
    assert set(codes) <= {"ok", "quiz_attempts_used", "quiz_attempt_conflict"}
