"""Builders for the learning tests: a lesson of a known length in a course the member holds, a player
that talks to the API as the web page and the mini-program do, on a clock the test moves
(time-machine), and quizzes and homework."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from courses.models import Course, Homework, Lesson, LessonProgress, Quiz, QuizOption, QuizQuestion
from tests.courses import factories as f
from tests.courses.conftest import api_for

START = datetime(2026, 3, 2, 20, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


def video_course(*, member, tier, lessons: int = 2, length: int = 100, percent: int = 90, **rule) -> Course:
    """A course included in `tier` (which `member` holds) with `lessons` videos of `length` seconds."""
    course = f.make_course(tiers=[tier], lessons=lessons, previews=0, price_fen=0)
    course.lessons.update(duration_seconds=length)
    Course.objects.filter(pk=course.pk).update(complete_at_percent=percent, **rule)
    course.refresh_from_db()
    f.give_tier(member, tier, now=START)
    return course


def first_lesson(course: Course) -> Lesson:
    return course.lessons.order_by("position").first()


class Player:
    """One device playing one lesson: `start()` then `beat(position, after=seconds)` moves the clock by
    `after` seconds and sends a heartbeat, as a player does every 15 s."""

    def __init__(self, user, lesson: Lesson, clock: time_machine.Coordinates, client=None):
        self.user, self.lesson, self.clock = user, lesson, clock
        self.client = client or api_for(user)
        self.session = ""

    def start(self, position: int = 0):
        response = self.client.post(
            f"/api/v1/lessons/{self.lesson.pk}/playback/", {"position_seconds": position}, format="json"
        )
        if response.status_code == 201:
            self.session = response.json()["session_id"]
        return response

    def beat(self, position: int, *, after: float = 15, rate: float = 1.0, session: str | None = None):
        self.clock.shift(after)
        return self.client.post(
            f"/api/v1/lessons/{self.lesson.pk}/heartbeat/",
            {
                "session_id": self.session if session is None else session,
                "position_seconds": position,
                "playback_rate": rate,
            },
            format="json",
        )

    def watch(self, start: int, end: int, *, step: int = 15):
        """Play from `start` to `end` in real time, a heartbeat every `step` seconds."""
        last = None
        for position in range(start + step, end + 1, step):
            last = self.beat(position, after=step)
            assert last.status_code == 200, last.json()
        return last

    def progress(self) -> LessonProgress:
        return LessonProgress.objects.get(user=self.user, lesson=self.lesson)


def progress_state(user, lesson) -> tuple:
    """Everything a heartbeat may change, to compare before and after a refused one."""
    row = LessonProgress.objects.filter(user=user, lesson=lesson).values_list(
        "position_seconds",
        "watched",
        "watched_seconds",
        "completed",
        "playback_session",
        "playback_position",
        "playback_at",
    )
    found = row.first()
    return (found[0], bytes(found[1]), *found[2:]) if found else ()


def make_quiz(lesson: Lesson, *, pass_percent: int = 60, max_attempts: int | None = 2) -> Quiz:
    """Two questions: Q1 single choice (right: "A1"), Q2 multiple choice (right: "B1" and "B3")."""
    quiz = Quiz.objects.create(
        lesson=lesson, title="课后小测", pass_percent=pass_percent, max_attempts=max_attempts
    )
    q1 = QuizQuestion.objects.create(quiz=quiz, position=1, text="第一题", kind=QuizQuestion.Kind.SINGLE)
    for i, right in enumerate((True, False, False), start=1):
        QuizOption.objects.create(question=q1, position=i, text=f"A{i}", is_correct=right)
    q2 = QuizQuestion.objects.create(quiz=quiz, position=2, text="第二题", kind=QuizQuestion.Kind.MULTIPLE)
    for i, right in enumerate((True, False, True), start=1):
        QuizOption.objects.create(question=q2, position=i, text=f"B{i}", is_correct=right)
    return quiz


def option_ids(quiz: Quiz) -> dict[str, int]:
    """{"A1": id, …} of the quiz's options."""
    return {o.text: o.pk for o in QuizOption.objects.filter(question__quiz=quiz)}


def question_ids(quiz: Quiz) -> list[int]:
    return list(quiz.questions.order_by("position").values_list("id", flat=True))


def make_homework(lesson: Lesson, **fields) -> Homework:
    return Homework.objects.create(lesson=lesson, prompt="写下三条收获", **fields)


def png(name: str = "photo.png", size=(40, 30)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
