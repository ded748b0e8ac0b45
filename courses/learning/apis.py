"""The learning API (mini-program and web players): playback sessions and heartbeats, a lesson's quiz
and homework, and a course's completion and certificate."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import ApplicationError
from core.parsers import CleanFormParser, CleanMultiPartParser, LimitedJSONParser
from courses.catalog import selectors as catalog_selectors
from courses.learning import completion, homework, playback, quizzes
from courses.models import HomeworkSubmission

TAG_LEARNING = ["learning"]


class PlaybackOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PlaybackOutput"

    session_id = serializers.CharField(help_text="send it with every heartbeat of this playback")
    heartbeat_seconds = serializers.IntegerField(help_text="send a heartbeat this often while playing")
    kind = serializers.CharField(help_text="video / audio / text")
    position_seconds = serializers.IntegerField()
    watched_seconds = serializers.IntegerField(help_text="seconds the server vouches were watched")
    watched_percent = serializers.IntegerField()
    complete_at_percent = serializers.IntegerField(
        help_text="the course's rule: learned at this share watched"
    )
    completed = serializers.BooleanField()
    reading_seconds_left = serializers.IntegerField(help_text="text lessons: wait before 学完了 is accepted")


def _playback_payload(state: playback.PlaybackState) -> dict:
    return {
        "session_id": state.session_id,
        "heartbeat_seconds": playback.HEARTBEAT_SECONDS,
        "kind": state.kind,
        "position_seconds": state.position_seconds,
        "watched_seconds": state.watched_seconds,
        "watched_percent": state.watched_percent,
        "complete_at_percent": state.complete_at_percent,
        "completed": state.completed,
        "reading_seconds_left": state.reading_seconds_left,
    }


class PlaybackStartApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaybackStartInput"

        position_seconds = serializers.IntegerField(
            min_value=0, max_value=24 * 3600, required=False, default=0
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Start playing (or reading) a lesson: a session for heartbeats; replaces the one on another device",
        description="409 `lesson_length_unknown` for media without a length; 400 `position_beyond_length`.",
        operation_id="lessons_playback_start",
        request=InputSerializer,
        responses={201: PlaybackOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = playback.playback_start(
            user=request.user, lesson=lesson, position_seconds=data.validated_data["position_seconds"]
        )
        return Response(_playback_payload(state), status=status.HTTP_201_CREATED)


class HeartbeatApi(APIView):
    """The hot path (bench/bench_heartbeats.py): two statements and one cache round trip."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HeartbeatInput"

        session_id = serializers.CharField(max_length=200)
        position_seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600)
        playback_rate = serializers.FloatField(min_value=0.1, max_value=16, required=False, default=1.0)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HeartbeatOutput"

        outcome = serializers.CharField(
            help_text="credited / seek (nothing credited, the anchor moved) / too_soon (nothing changed)"
        )
        accepted_seconds = serializers.IntegerField(help_text="newly watched seconds this heartbeat added")
        position_seconds = serializers.IntegerField()
        watched_seconds = serializers.IntegerField()
        watched_percent = serializers.IntegerField()
        complete_at_percent = serializers.IntegerField()
        completed = serializers.BooleanField()

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Playback heartbeat: the server credits only what real time allows",
        description=(
            "Every `heartbeat_seconds` while playing, and on pause, seek and end. Refusals change nothing: "
            "400 `playback_session_unknown` (not issued for this member and lesson), 409 "
            "`playback_superseded` (another device started playing), 400 `position_beyond_length`, "
            "409 `heartbeat_conflict` (two at once), 403 `not_entitled`."
        ),
        operation_id="lessons_heartbeat",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, lesson_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        state = playback.playback_heartbeat(
            user=request.user,
            lesson_id=lesson_id,
            session_id=values["session_id"],
            position_seconds=values["position_seconds"],
            playback_rate=values["playback_rate"],
        )
        return Response(
            {
                "outcome": state.outcome,
                "accepted_seconds": state.accepted_seconds,
                "position_seconds": state.position_seconds,
                "watched_seconds": state.watched_seconds,
                "watched_percent": state.watched_percent,
                "complete_at_percent": state.complete_at_percent,
                "completed": state.completed,
            }
        )


# ---- quiz ---------------------------------------------------------------------------------------------

_ATTEMPT_FIELDS: dict[str, serializers.Field] = {
    "number": serializers.IntegerField(),
    "score_percent": serializers.IntegerField(),
    "correct_count": serializers.IntegerField(),
    "question_count": serializers.IntegerField(),
    "passed": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
}


ATTEMPT_NAMES = tuple(_ATTEMPT_FIELDS)


class QuizApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QuizOutput"

        id = serializers.IntegerField()
        lesson_id = serializers.IntegerField()
        title = serializers.CharField()
        pass_percent = serializers.IntegerField()
        max_attempts = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
        attempts_used = serializers.IntegerField()
        attempts_left = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
        passed = serializers.BooleanField()
        best_percent = serializers.IntegerField(allow_null=True)
        can_attempt = serializers.BooleanField()
        last_attempt = inline_serializer(
            name="QuizLastAttempt", fields=dict(_ATTEMPT_FIELDS), allow_null=True
        )
        questions = inline_serializer(
            name="QuizQuestionRow",
            many=True,
            fields={
                "id": serializers.IntegerField(),
                "text": serializers.CharField(),
                "kind": serializers.CharField(help_text="single / multiple"),
                "options": inline_serializer(
                    name="QuizOptionRow",
                    many=True,
                    fields={"id": serializers.IntegerField(), "text": serializers.CharField()},
                ),
            },
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="The lesson's quiz (never its answers) and my attempts; 404 no_quiz when it has none",
        operation_id="lessons_quiz",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        playback.lesson_check(request.user, lesson)
        quiz = quizzes.quiz_for_lesson(lesson)
        if quiz is None:
            raise ApplicationError("no_quiz", _("本课时没有测验"), status_code=404)
        standing = quizzes.quiz_standing(user=request.user, quiz=quiz)
        return Response(quiz_payload(quiz, standing))


def attempt_payload(attempt) -> dict:
    return {name: getattr(attempt, name) for name in ATTEMPT_NAMES}


def quiz_payload(quiz, standing: quizzes.QuizStanding) -> dict:
    return {
        "id": quiz.pk,
        "lesson_id": quiz.lesson_id,
        "title": quiz.title,
        "pass_percent": quiz.pass_percent,
        "max_attempts": quiz.max_attempts,
        "attempts_used": standing.used,
        "attempts_left": standing.attempts_left,
        "passed": standing.passed,
        "best_percent": standing.best_percent,
        "can_attempt": standing.can_attempt,
        "last_attempt": attempt_payload(standing.last) if standing.last else None,
        "questions": [
            {
                "id": q.pk,
                "text": q.text,
                "kind": q.kind,
                "options": [{"id": o.pk, "text": o.text} for o in q.options.all()],
            }
            for q in quiz.questions.all()
        ],
    }


class QuizAttemptApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QuizAttemptInput"

        answers = serializers.ListField(
            child=inline_serializer(
                name="QuizAnswerInput",
                fields={
                    "question_id": serializers.IntegerField(),
                    "option_ids": serializers.ListField(child=serializers.IntegerField(), max_length=50),
                },
            ),
            max_length=200,
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QuizAttemptOutput"

        number = serializers.IntegerField()
        score_percent = serializers.IntegerField()
        correct_count = serializers.IntegerField()
        question_count = serializers.IntegerField()
        passed = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        attempts_left = serializers.IntegerField(allow_null=True)
        results = inline_serializer(
            name="QuizAnswerResult",
            many=True,
            fields={"question_id": serializers.IntegerField(), "correct": serializers.BooleanField()},
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Answer the lesson's quiz (graded on the server)",
        description=(
            "Every question once. Refusals save nothing: 400 `quiz_unknown_option` (a question or option "
            "not in this quiz), 400 `quiz_incomplete`, 409 `quiz_attempts_used`, 409 `quiz_already_passed`."
        ),
        operation_id="lessons_quiz_attempt",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers: dict[int, list[int]] = {}
        for row in data.validated_data["answers"]:
            if row["question_id"] in answers:
                raise ApplicationError(
                    "invalid", _("同一道题只能作答一次"), fields={"answers": [_("题目重复")]}
                )
            answers[row["question_id"]] = row["option_ids"]
        attempt, right = quizzes.quiz_submit(user=request.user, lesson=lesson, answers=answers)
        left = (
            None if attempt.quiz.max_attempts is None else max(0, attempt.quiz.max_attempts - attempt.number)
        )
        payload = {
            **attempt_payload(attempt),
            "attempts_left": left,
            "results": [{"question_id": pk, "correct": ok} for pk, ok in right.items()],
        }
        return Response(payload, status=status.HTTP_201_CREATED)


# ---- homework -----------------------------------------------------------------------------------------


class SubmissionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "HomeworkSubmission"

    id = serializers.IntegerField()
    lesson_id = serializers.IntegerField()
    status = serializers.CharField(help_text="submitted / approved / returned")
    text = serializers.CharField()
    images = serializers.ListField(child=serializers.CharField())
    submitted_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_comment = serializers.CharField(allow_blank=True)


def submission_payload(submission: HomeworkSubmission, *, lesson_id: int) -> dict:
    return {
        "id": submission.pk,
        "lesson_id": lesson_id,
        "status": submission.status,
        "text": submission.text,
        "images": [default_storage.url(name) for name in submission.images],
        "submitted_at": submission.submitted_at,
        "reviewed_at": submission.reviewed_at,
        "review_comment": submission.review_comment,
    }


class HomeworkApi(APIView):
    parser_classes = [CleanMultiPartParser, CleanFormParser, LimitedJSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HomeworkInput"

        text = serializers.CharField(max_length=homework.MAX_HOMEWORK_CHARS)
        images = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HomeworkOutput"

        lesson_id = serializers.IntegerField()
        prompt = serializers.CharField()
        max_images = serializers.IntegerField()
        requires_image = serializers.BooleanField()
        submission = SubmissionSerializer(allow_null=True)

    @extend_schema(
        tags=TAG_LEARNING,
        summary="The lesson's homework and my submission; 404 no_homework when it has none",
        operation_id="lessons_homework",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        playback.lesson_check(request.user, lesson)
        assignment = homework.homework_for_lesson(lesson)
        if assignment is None:
            raise ApplicationError("no_homework", _("本课时没有作业"), status_code=404)
        mine = homework.my_submission(user=request.user, homework=assignment)
        return Response(
            {
                "lesson_id": lesson.pk,
                "prompt": assignment.prompt,
                "max_images": assignment.max_images,
                "requires_image": assignment.requires_image,
                "submission": submission_payload(mine, lesson_id=lesson.pk) if mine else None,
            }
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Submit my homework (text and images; again after it was returned)",
        description=(
            "Refusals store nothing: 400 `invalid_image` (not an image), `image_too_large`, "
            "`too_many_images`, `image_required`; 409 `homework_already_submitted` / "
            "`homework_already_approved`."
        ),
        operation_id="lessons_homework_submit",
        request={"multipart/form-data": InputSerializer, "application/json": InputSerializer},
        responses={201: SubmissionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, lesson_id: int):
        lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        images = request.FILES.getlist("images") if request.FILES else []
        submission = homework.homework_submit(
            user=request.user, lesson=lesson, text=data.validated_data["text"], images=images
        )
        return Response(submission_payload(submission, lesson_id=lesson.pk), status=status.HTTP_201_CREATED)


class HomeworkReviewQueueApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HomeworkReviewQueueOutput"

        count = serializers.IntegerField()
        results = inline_serializer(
            name="HomeworkReviewRow",
            many=True,
            fields={
                "submission": SubmissionSerializer(),
                "course_title": serializers.CharField(),
                "lesson_title": serializers.CharField(),
                "member": serializers.CharField(),
            },
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Homework waiting for review, longest waiting first — teachers and operators",
        operation_id="homework_review_queue",
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        queue = homework.review_queue(user=request.user)
        rows = [
            {
                "submission": submission_payload(s, lesson_id=s.homework.lesson_id),
                "course_title": s.course.title,
                "lesson_title": s.homework.lesson.title,
                "member": s.user.display_name,
            }
            for s in queue[:50]
        ]
        return Response({"count": queue.count(), "results": rows})


class HomeworkReviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HomeworkReviewInput"

        approve = serializers.BooleanField()
        comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Approve homework or return it for rework (once; a return needs a comment)",
        operation_id="homework_review",
        request=InputSerializer,
        responses={200: SubmissionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, submission_id: int):
        submission = (
            HomeworkSubmission.objects.select_related("course", "homework").filter(pk=submission_id).first()
        )
        if submission is None or not homework.course_can_review(request.user, submission.course):
            raise ApplicationError("not_found", _("作业不存在"), status_code=404)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = homework.homework_review(submission=submission, reviewer=request.user, **data.validated_data)
        return Response(submission_payload(done, lesson_id=submission.homework.lesson_id))


# ---- completion and certificate -----------------------------------------------------------------------


class CourseCompletionApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CourseCompletionOutput"

        course_id = serializers.IntegerField()
        complete_at_percent = serializers.IntegerField()
        require_quizzes = serializers.BooleanField()
        require_homework = serializers.BooleanField()
        lessons_total = serializers.IntegerField()
        lessons_done = serializers.IntegerField()
        quizzes_total = serializers.IntegerField()
        quizzes_passed = serializers.IntegerField()
        homework_total = serializers.IntegerField()
        homework_approved = serializers.IntegerField()
        completed = serializers.BooleanField(help_text="the course's rule is met")
        certificate = inline_serializer(
            name="CourseCertificate",
            allow_null=True,
            fields={
                "certificate_no": serializers.CharField(),
                "completed_at": serializers.DateTimeField(),
                "image_url": serializers.CharField(help_text="the web page's image (session login)"),
                "image_api_url": serializers.CharField(help_text="the same PNG for API clients"),
            },
        )

    @extend_schema(
        tags=TAG_LEARNING,
        summary="Where I stand against the course's completion rule, and my certificate once it is met",
        operation_id="courses_completion",
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, course_id: int):
        course = catalog_selectors.course_get(course_id=course_id)
        if not catalog_selectors.course_access(request.user, course).unlocked:
            raise ApplicationError("not_entitled", _("需要开通会员或购买后才能查看"), status_code=403)
        rule = completion.course_rule(user=request.user, course=course)
        done = completion.course_certificate(user=request.user, course=course)
        return Response(
            {
                "course_id": course.pk,
                "complete_at_percent": course.complete_at_percent,
                "require_quizzes": course.require_quizzes,
                "require_homework": course.require_homework,
                "lessons_total": rule.lessons_total,
                "lessons_done": rule.lessons_done,
                "quizzes_total": rule.quizzes_total,
                "quizzes_passed": rule.quizzes_passed,
                "homework_total": rule.homework_total,
                "homework_approved": rule.homework_approved,
                "completed": done is not None,
                "certificate": (
                    {
                        "certificate_no": done.certificate_no,
                        "completed_at": done.completed_at,
                        "image_url": reverse("courses:course_certificate_png", args=[course.pk]),
                        "image_api_url": reverse("courses-api-certificate-png", args=[course.pk]),
                    }
                    if done
                    else None
                ),
            }
        )


class CourseCertificatePngApi(APIView):
    @extend_schema(
        tags=TAG_LEARNING,
        summary="My course certificate as a PNG (404 not_completed until the rule is met)",
        operation_id="courses_certificate_png",
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), **error_responses(401, 404)},
    )
    def get(self, request, course_id: int):
        course = catalog_selectors.course_get(course_id=course_id)
        done = completion.course_certificate(user=request.user, course=course)
        if done is None:
            raise ApplicationError("not_completed", _("完成课程要求后才能获得结业证书"), status_code=404)
        response = HttpResponse(completion.certificate_png(done=done), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="certificate-{done.certificate_no}.png"'
        response["Cache-Control"] = "private, max-age=300"
        return response
