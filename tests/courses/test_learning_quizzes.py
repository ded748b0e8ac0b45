"""Quizzes graded on the server (pass mark, retries, answers with options that do not exist), homework
(images validated as for check-ins, reviewed by the course's teacher) and the certificate, issued only
once the course's rule — lessons learned, quizzes passed, homework approved — is met."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from courses.learning import homework as learning_homework
from courses.models import CourseCompletion, HomeworkSubmission, LessonProgress, QuizAttempt
from tests.courses.conftest import api_for
from tests.courses.learning_helpers import (
    first_lesson,
    make_homework,
    make_quiz,
    option_ids,
    png,
    question_ids,
    video_course,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sheet(quiz, first: list[str], second: list[str]) -> dict:
    options, questions = option_ids(quiz), question_ids(quiz)
    return {
        "answers": [
            {"question_id": questions[0], "option_ids": [options[o] for o in first]},
            {"question_id": questions[1], "option_ids": [options[o] for o in second]},
        ]
    }


def learn_every_lesson(member, course) -> None:
    """Learned by the server's rule (heartbeats are tested in test_learning_heartbeats)."""
    for lesson in course.lessons.all():
        LessonProgress.objects.update_or_create(
            user=member, lesson=lesson, defaults={"course": course, "completed": True}
        )


def test_the_quiz_shows_no_answers_and_grades_on_the_server(member, vip):
    lesson = first_lesson(video_course(member=member, tier=vip))
    quiz = make_quiz(lesson, pass_percent=100, max_attempts=None)
    client = api_for(member)
    shown = client.get(f"/api/v1/lessons/{lesson.pk}/quiz/")
    assert shown.status_code == 200
    body = shown.json()
    assert "is_correct" not in str(body) and body["attempts_left"] is None and body["can_attempt"] is True
    assert [q["kind"] for q in body["questions"]] == ["single", "multiple"]
    assert [o["text"] for o in body["questions"][1]["options"]] == ["B1", "B2", "B3"]

    half = client.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B1"]), format="json"
    )
    assert half.status_code == 201
    assert {k: half.json()[k] for k in ("number", "score_percent", "correct_count", "passed")} == {
        "number": 1,
        "score_percent": 50,
        "correct_count": 1,
        "passed": False,
    }
    assert half.json()["results"] == [
        {"question_id": question_ids(quiz)[0], "correct": True},
        {"question_id": question_ids(quiz)[1], "correct": False},
    ]
    full = client.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B3", "B1"]), format="json"
    )
    assert full.json()["passed"] is True and full.json()["score_percent"] == 100
    again = client.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B1"]), format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "quiz_already_passed"
    assert QuizAttempt.objects.filter(user=member).count() == 2


def test_retries_are_limited(member, vip):
    lesson = first_lesson(video_course(member=member, tier=vip))
    quiz = make_quiz(lesson, max_attempts=2)
    client = api_for(member)
    for number in (1, 2):
        wrong = client.post(
            f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A2"], ["B2"]), format="json"
        )
        assert wrong.json()["number"] == number and wrong.json()["attempts_left"] == 2 - number
    used = client.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B1", "B3"]), format="json"
    )
    assert used.status_code == 409 and used.json()["code"] == "quiz_attempts_used"
    assert not QuizAttempt.objects.filter(passed=True).exists()
    assert client.get(f"/api/v1/lessons/{lesson.pk}/quiz/").json()["can_attempt"] is False


def test_answers_with_options_that_do_not_exist_are_refused_and_save_nothing(member, vip):
    course = video_course(member=member, tier=vip, lessons=2)
    lesson, other_lesson = list(course.lessons.order_by("position"))
    quiz = make_quiz(lesson)
    other_quiz = make_quiz(other_lesson)
    options, questions = option_ids(quiz), question_ids(quiz)
    foreign = option_ids(other_quiz)["A1"]
    client = api_for(member)
    url = f"/api/v1/lessons/{lesson.pk}/quiz/attempts/"
    bad_sheets = {
        "another quiz's option": [
            {"question_id": questions[0], "option_ids": [foreign]},
            {"question_id": questions[1], "option_ids": [options["B1"]]},
        ],
        "another question's option": [
            {"question_id": questions[0], "option_ids": [options["B1"]]},
            {"question_id": questions[1], "option_ids": [options["B1"]]},
        ],
        "no such option": [
            {"question_id": questions[0], "option_ids": [999_999]},
            {"question_id": questions[1], "option_ids": [options["B1"]]},
        ],
        "no such question": [
            {"question_id": questions[0], "option_ids": [options["A1"]]},
            {"question_id": questions[1], "option_ids": [options["B1"]]},
            {"question_id": 999_999, "option_ids": [options["B1"]]},
        ],
    }
    for name, answers in bad_sheets.items():
        refused = client.post(url, {"answers": answers}, format="json")
        assert refused.status_code == 400 and refused.json()["code"] == "quiz_unknown_option", name
    two_for_single = client.post(url, sheet(quiz, ["A1", "A2"], ["B1"]), format="json")
    assert two_for_single.status_code == 400
    unanswered = client.post(
        url, {"answers": [{"question_id": questions[0], "option_ids": [options["A1"]]}]}, format="json"
    )
    assert unanswered.status_code == 400 and unanswered.json()["code"] == "quiz_incomplete"
    repeated = client.post(
        url,
        {"answers": [{"question_id": questions[0], "option_ids": [options["A1"]]}] * 2},
        format="json",
    )
    assert repeated.status_code == 400
    assert not QuizAttempt.objects.exists()


def test_a_quiz_is_for_those_who_may_open_the_lesson(member, vip):
    lesson = first_lesson(video_course(member=member, tier=vip))
    quiz = make_quiz(lesson)
    stranger = api_for(UserFactory())
    assert stranger.get(f"/api/v1/lessons/{lesson.pk}/quiz/").json()["code"] == "not_entitled"
    refused = stranger.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B1", "B3"]), format="json"
    )
    assert refused.status_code == 403 and not QuizAttempt.objects.exists()
    no_quiz = api_for(member).get(f"/api/v1/lessons/{list(lesson.course.lessons.all())[-1].pk}/quiz/")
    assert no_quiz.status_code == 404 and no_quiz.json()["code"] == "no_quiz"


def test_homework_takes_real_images_only_and_nothing_is_stored_otherwise(member, vip, settings):
    lesson = first_lesson(video_course(member=member, tier=vip))
    make_homework(lesson, max_images=2)
    client = api_for(member)
    url = f"/api/v1/lessons/{lesson.pk}/homework/"
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    not_image = client.post(url, {"text": "作业", "images": [fake]}, format="multipart")
    assert not_image.status_code == 400 and not_image.json()["code"] == "invalid_image"
    settings.UPLOAD_IMAGE_MAX_BYTES = 100
    too_large = client.post(url, {"text": "作业", "images": [png()]}, format="multipart")
    assert too_large.status_code == 400 and too_large.json()["code"] == "image_too_large"
    settings.UPLOAD_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    too_many = client.post(url, {"text": "作业", "images": [png(), png(), png()]}, format="multipart")
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many_images"
    assert not HomeworkSubmission.objects.exists()

    sent = client.post(url, {"text": "三条收获", "images": [png()]}, format="multipart")
    assert sent.status_code == 201
    assert sent.json()["status"] == "submitted" and sent.json()["images"][0].endswith(".png")
    twice = client.post(url, {"text": "再交一次"}, format="multipart")
    assert twice.status_code == 409 and twice.json()["code"] == "homework_already_submitted"
    mine = client.get(url).json()
    assert mine["prompt"] == "写下三条收获" and mine["submission"]["text"] == "三条收获"


def test_homework_is_reviewed_by_the_courses_teacher_returned_and_resubmitted(member, vip):
    course = video_course(member=member, tier=vip)
    lesson = first_lesson(course)
    make_homework(lesson)
    api_for(member).post(f"/api/v1/lessons/{lesson.pk}/homework/", {"text": "初稿"}, format="json")
    submission = HomeworkSubmission.objects.get()
    other_teacher = api_for(UserFactory())
    assert other_teacher.get("/api/v1/homework/reviews/").json()["count"] == 0
    review_url = f"/api/v1/homework/submissions/{submission.pk}/review/"
    assert other_teacher.post(review_url, {"approve": True}, format="json").status_code == 404
    teacher = api_for(course.teacher)
    queue = teacher.get("/api/v1/homework/reviews/").json()
    assert queue["count"] == 1 and queue["results"][0]["submission"]["text"] == "初稿"
    no_reason = teacher.post(review_url, {"approve": False}, format="json")
    assert no_reason.status_code == 400
    returned = teacher.post(review_url, {"approve": False, "comment": "请补充例子"}, format="json")
    assert returned.json()["status"] == "returned" and returned.json()["review_comment"] == "请补充例子"
    assert teacher.post(review_url, {"approve": True}, format="json").json()["code"] == "already_reviewed"
    again = api_for(member).post(f"/api/v1/lessons/{lesson.pk}/homework/", {"text": "改好了"}, format="json")
    assert again.status_code == 201 and again.json()["status"] == "submitted"
    approved = teacher.post(review_url, {"approve": True, "comment": "很好"}, format="json")
    assert approved.json()["status"] == "approved"
    assert (
        api_for(member)
        .post(f"/api/v1/lessons/{lesson.pk}/homework/", {"text": "再交"}, format="json")
        .json()["code"]
        == "homework_already_approved"
    )


def test_the_certificate_waits_for_the_quiz_and_the_homework_the_rule_requires(member, vip):
    course = video_course(member=member, tier=vip, lessons=2, require_quizzes=True, require_homework=True)
    lesson = first_lesson(course)
    quiz = make_quiz(lesson)
    make_homework(lesson)
    client = api_for(member)
    learn_every_lesson(member, course)
    learning_homework.homework_submit(user=member, lesson=lesson, text="作业")
    from courses.learning import completion

    assert completion.course_completion_check(user=member, course=course) is None
    png_url = f"/api/v1/courses/{course.pk}/certificate.png"
    assert client.get(png_url).json()["code"] == "not_completed"
    standing = client.get(f"/api/v1/courses/{course.pk}/completion/").json()
    assert {k: standing[k] for k in ("lessons_done", "quizzes_passed", "homework_approved", "completed")} == {
        "lessons_done": 2,
        "quizzes_passed": 0,
        "homework_approved": 0,
        "completed": False,
    }
    client.post(
        f"/api/v1/lessons/{lesson.pk}/quiz/attempts/", sheet(quiz, ["A1"], ["B1", "B3"]), format="json"
    )
    assert not CourseCompletion.objects.exists()  # the homework is not approved yet
    learning_homework.homework_review(
        submission=HomeworkSubmission.objects.get(), reviewer=course.teacher, approve=True
    )
    done = CourseCompletion.objects.get(user=member, course=course)
    certificate = client.get(f"/api/v1/courses/{course.pk}/completion/").json()["certificate"]
    assert certificate["certificate_no"] == done.certificate_no
    image = client.get(png_url)
    assert (
        image.status_code == 200 and image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    )


def test_a_certificate_shows_only_while_the_member_may_open_the_course(member, vip):
    from tests.courses import factories as f

    course = video_course(member=member, tier=vip, lessons=1)
    learn_every_lesson(member, course)
    from courses.learning import completion

    assert completion.course_completion_check(user=member, course=course) is not None
    client = api_for(member)
    assert client.get(f"/api/v1/courses/{course.pk}/certificate.png").status_code == 200
    f.give_tier(member, vip, expired=True)
    assert client.get(f"/api/v1/courses/{course.pk}/certificate.png").status_code == 404
    assert CourseCompletion.objects.filter(user=member).exists()  # the record stays for a renewal
