"""The learning pages in Chinese and English: the lesson page's player (session and heartbeat URLs,
no "mark as learned" for media), its quiz and homework forms, the course's rule and certificate, and
the teachers' homework review queue."""

from __future__ import annotations

import pytest
from django.conf import settings

from courses.models import CourseCompletion, HomeworkSubmission, Lesson, LessonProgress, QuizAttempt
from tests.courses.learning_helpers import (
    first_lesson,
    make_homework,
    make_quiz,
    option_ids,
    png,
    video_course,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def english(client, url: str) -> str:
    """The page as a visitor who chose English in the switcher (the language cookie) reads it."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        html = client.get(url).content.decode()
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert 'lang="en"' in html
    return html


def test_the_lesson_page_plays_through_heartbeats_and_shows_quiz_and_homework(member, vip, client):
    course = video_course(member=member, tier=vip, percent=80)
    lesson = first_lesson(course)
    make_quiz(lesson)
    make_homework(lesson, max_images=2)
    client.force_login(member)
    html = client.get(f"/courses/lessons/{lesson.pk}/").content.decode()
    assert (
        f"/api/v1/lessons/{lesson.pk}/playback/" in html and f"/api/v1/lessons/{lesson.pk}/heartbeat/" in html
    )
    assert "真实观看达到 80% 算学完" in html and "js-complete" not in html
    assert "课后小测" in html and "第二题" in html and "（多选）" in html and 'type="checkbox"' in html
    assert "课后作业" in html and "写下三条收获" in html and 'enctype="multipart/form-data"' in html
    en = english(client, f"/courses/lessons/{lesson.pk}/")
    assert "(multiple choice)" in en and "Homework" in en and "Counts as learned once 80%" in en


def test_a_text_lesson_page_offers_i_am_done_with_its_reading_time(member, vip, client):
    course = video_course(member=member, tier=vip)
    text = Lesson.objects.create(
        course=course, title="图文", position=9, kind=Lesson.Kind.TEXT, body="字" * 300
    )
    client.force_login(member)
    html = client.get(f"/courses/lessons/{text.pk}/").content.decode()
    assert "js-complete" in html and "至少阅读 20 秒" in html
    assert "at least 20 seconds" in english(client, f"/courses/lessons/{text.pk}/")


def test_answering_the_quiz_on_the_page(member, vip, client):
    lesson = first_lesson(video_course(member=member, tier=vip))
    quiz = make_quiz(lesson)
    options = option_ids(quiz)
    questions = list(quiz.questions.order_by("position"))
    client.force_login(member)
    url = f"/courses/lessons/{lesson.pk}/quiz/"
    bad = client.post(
        url, {f"q{questions[0].pk}": 999_999, f"q{questions[1].pk}": options["B1"]}, follow=True
    )
    assert "答案中有不存在的选项" in bad.content.decode() and not QuizAttempt.objects.exists()
    passed = client.post(
        url,
        {f"q{questions[0].pk}": options["A1"], f"q{questions[1].pk}": [options["B1"], options["B3"]]},
        follow=True,
    )
    assert "测验通过" in passed.content.decode() and "已通过，最高得分 100%" in passed.content.decode()
    assert QuizAttempt.objects.get().passed


def test_homework_on_the_page_and_the_teachers_review_queue(member, vip, client):
    course = video_course(member=member, tier=vip, lessons=1, require_homework=True)
    lesson = first_lesson(course)
    make_homework(lesson)
    LessonProgress.objects.create(user=member, lesson=lesson, course=course, completed=True)
    client.force_login(member)
    sent = client.post(
        f"/courses/lessons/{lesson.pk}/homework/", {"text": "我的作业", "images": [png()]}, follow=True
    )
    assert "作业已提交" in sent.content.decode() and HomeworkSubmission.objects.get().images
    course_page = client.get(f"/courses/{course.pk}/").content.decode()
    assert (
        "结业要求" in course_page and "作业通过批改：0/1" in course_page and "查看结业证书" not in course_page
    )

    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get("/courses/homework/review/").status_code == 404
    submission = HomeworkSubmission.objects.get()
    assert client.post(f"/courses/homework/{submission.pk}/review/", {"approve": "1"}).status_code == 404

    client.force_login(course.teacher)
    queue = client.get("/courses/homework/review/").content.decode()
    assert "我的作业" in queue and "退回修改" in queue
    assert "Homework review" in english(client, "/courses/homework/review/")
    client.post(f"/courses/homework/{submission.pk}/review/", {"approve": "1", "comment": "好"})
    assert HomeworkSubmission.objects.get().status == "approved"
    assert CourseCompletion.objects.filter(user=member, course=course).exists()

    client.force_login(member)
    course_page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "查看结业证书" in course_page
    certificate = client.get(f"/courses/{course.pk}/certificate/")
    assert "证书编号" in certificate.content.decode()
    assert "Certificate" in english(client, f"/courses/{course.pk}/certificate/")
    image = client.get(f"/courses/{course.pk}/certificate.png")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"


def test_no_certificate_page_image_before_the_rule_is_met(member, vip, client):
    course = video_course(member=member, tier=vip)
    client.force_login(member)
    page = client.get(f"/courses/{course.pk}/certificate/").content.decode()
    assert "达到以上要求后自动颁发结业证书" in page
    assert client.get(f"/courses/{course.pk}/certificate.png").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/courses/{course.pk}/certificate/").status_code == 404
