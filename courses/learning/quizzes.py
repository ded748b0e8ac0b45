"""Lesson quizzes (课时测验): what a member sees of one (never the answers), and grading an attempt on
the server.

An answer sheet must name every question of the quiz once, with option ids of that question only
(one for a single-choice question, at least one for a multiple-choice one); anything else is 400 and
nothing is saved. A question is right when exactly its correct options are chosen; the attempt passes
at the quiz's `pass_percent`. Attempts are numbered per member from 1 (a unique constraint): beyond
`max_attempts` is 409 `quiz_attempts_used`, and once passed there is nothing to retry
(409 `quiz_already_passed`). A pass may complete the course (courses.learning.completion).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.learning import completion
from courses.learning.playback import lesson_check
from courses.models import Lesson, Quiz, QuizAttempt, QuizOption, QuizQuestion


@dataclass(frozen=True)
class QuizStanding:
    """A member's attempts at one quiz."""

    used: int
    passed: bool
    best_percent: int | None
    last: QuizAttempt | None
    attempts_left: int | None  # None: unlimited

    @property
    def can_attempt(self) -> bool:
        return not self.passed and (self.attempts_left is None or self.attempts_left > 0)


def quiz_for_lesson(lesson: Lesson) -> Quiz | None:
    """The lesson's published quiz with its questions and options (2 more statements), or None."""
    return (
        Quiz.objects.filter(lesson_id=lesson.pk, is_published=True)
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=QuizQuestion.objects.order_by("position", "id").prefetch_related(
                    Prefetch("options", queryset=QuizOption.objects.order_by("position", "id"))
                ),
            )
        )
        .first()
    )


def quiz_standing(*, user, quiz: Quiz) -> QuizStanding:
    attempts = list(QuizAttempt.objects.filter(quiz_id=quiz.pk, user_id=user.pk).order_by("number"))
    used = len(attempts)
    return QuizStanding(
        used=used,
        passed=any(a.passed for a in attempts),
        best_percent=max((a.score_percent for a in attempts), default=None),
        last=attempts[-1] if attempts else None,
        attempts_left=None if quiz.max_attempts is None else max(0, quiz.max_attempts - used),
    )


def _sheet(quiz: Quiz, answers: dict[int, list[int]]) -> dict[int, set[int]]:
    """The answers checked against the quiz (module docstring), or 400 with nothing saved."""
    questions = {q.pk: q for q in quiz.questions.all()}
    unknown = [qid for qid in answers if qid not in questions]
    if unknown:
        raise ApplicationError(
            "quiz_unknown_option", _("答案中有不存在的题目"), fields={"answers": [_("题目不存在")]}
        )
    missing = [pk for pk in questions if not answers.get(pk)]
    if missing:
        raise ApplicationError(
            "quiz_incomplete", _("请回答全部题目后再提交"), fields={"answers": [_("还有题目没有作答")]}
        )
    sheet = {}
    for pk, chosen in answers.items():
        question = questions[pk]
        options = {o.pk for o in question.options.all()}
        picked = set(chosen)
        if len(picked) != len(chosen) or not picked <= options:
            raise ApplicationError(
                "quiz_unknown_option", _("答案中有不存在的选项"), fields={"answers": [_("选项不存在")]}
            )
        if question.kind == QuizQuestion.Kind.SINGLE and len(picked) != 1:
            raise ApplicationError(
                "invalid", _("单选题只能选一个答案"), fields={"answers": [_("单选题只能选一个")]}
            )
        sheet[pk] = picked
    return sheet


def quiz_grade(quiz: Quiz, sheet: dict[int, set[int]]) -> tuple[int, int, dict[int, bool]]:
    """(right, total, {question id: right?}) of a checked answer sheet."""
    right = {}
    for question in quiz.questions.all():
        correct = {o.pk for o in question.options.all() if o.is_correct}
        right[question.pk] = bool(correct) and sheet.get(question.pk) == correct
    return sum(right.values()), len(right), right


def quiz_submit(
    *, user, lesson: Lesson, answers: dict[int, list[int]]
) -> tuple[QuizAttempt, dict[int, bool]]:
    """Grade and record an attempt (module docstring); returns it and which questions were right."""
    lesson_check(user, lesson)
    quiz = quiz_for_lesson(lesson)
    if quiz is None:
        raise ApplicationError("no_quiz", _("本课时没有测验"), status_code=404)
    sheet = _sheet(quiz, answers)
    right, total, by_question = quiz_grade(quiz, sheet)
    score = right * 100 // total if total else 0
    with transaction.atomic():
        standing = quiz_standing(user=user, quiz=quiz)
        if standing.passed:
            raise ApplicationError("quiz_already_passed", _("你已通过本测验"), status_code=409)
        if not standing.can_attempt:
            raise ApplicationError("quiz_attempts_used", _("作答次数已用完"), status_code=409)
        try:
            with transaction.atomic():
                attempt = QuizAttempt.objects.create(
                    quiz=quiz,
                    user=user,
                    number=standing.used + 1,
                    answers={str(pk): sorted(chosen) for pk, chosen in sheet.items()},
                    correct_count=right,
                    question_count=total,
                    score_percent=score,
                    passed=total > 0 and score >= quiz.pass_percent,
                )
        except IntegrityError:  # another attempt took this number a moment ago
            raise ApplicationError(
                "quiz_attempt_conflict", _("另一份答卷刚刚提交，请刷新后再试"), status_code=409
            ) from None
        if attempt.passed:
            completion.course_completion_check(user=user, course=lesson.course)
    return attempt, by_question
