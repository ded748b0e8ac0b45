"""/api/v1 URLs of the courses app (API.md rows 7–8: courses/, courses/<id>/, lessons/<id>/)."""

from django.urls import path

from courses.camps import achievement_apis
from courses.camps import apis as camp_apis
from courses.camps import review_apis as camp_review_apis
from courses.catalog import apis as catalog_apis
from courses.events import apis as event_apis
from courses.learning import apis as learning_apis

urlpatterns = [
    path("courses/", catalog_apis.CourseListApi.as_view(), name="courses-api-list"),
    path("courses/mine/", catalog_apis.MyCoursesApi.as_view(), name="courses-api-mine"),
    path("courses/<int:course_id>/", catalog_apis.CourseDetailApi.as_view(), name="courses-api-detail"),
    path("lessons/<int:lesson_id>/", catalog_apis.LessonDetailApi.as_view(), name="courses-api-lesson"),
    path(
        "lessons/<int:lesson_id>/progress/",
        catalog_apis.LessonProgressApi.as_view(),
        name="courses-api-progress",
    ),
    path(
        "lessons/<int:lesson_id>/playback/",
        learning_apis.PlaybackStartApi.as_view(),
        name="courses-api-playback",
    ),
    path(
        "lessons/<int:lesson_id>/heartbeat/",
        learning_apis.HeartbeatApi.as_view(),
        name="courses-api-heartbeat",
    ),
    path("lessons/<int:lesson_id>/quiz/", learning_apis.QuizApi.as_view(), name="courses-api-quiz"),
    path(
        "lessons/<int:lesson_id>/quiz/attempts/",
        learning_apis.QuizAttemptApi.as_view(),
        name="courses-api-quiz-attempt",
    ),
    path(
        "lessons/<int:lesson_id>/homework/", learning_apis.HomeworkApi.as_view(), name="courses-api-homework"
    ),
    path(
        "homework/reviews/",
        learning_apis.HomeworkReviewQueueApi.as_view(),
        name="courses-api-homework-queue",
    ),
    path(
        "homework/submissions/<int:submission_id>/review/",
        learning_apis.HomeworkReviewApi.as_view(),
        name="courses-api-homework-review",
    ),
    path(
        "courses/<int:course_id>/completion/",
        learning_apis.CourseCompletionApi.as_view(),
        name="courses-api-completion",
    ),
    path(
        "courses/<int:course_id>/certificate.png",
        learning_apis.CourseCertificatePngApi.as_view(),
        name="courses-api-certificate-png",
    ),
    path("events/", event_apis.EventListApi.as_view(), name="events-api-list"),
    path("events/tickets/", event_apis.MyTicketsApi.as_view(), name="events-api-tickets"),
    path("events/tickets/<str:code>/qr.png", event_apis.TicketQrApi.as_view(), name="events-api-ticket-qr"),
    path("events/<int:event_id>/", event_apis.EventDetailApi.as_view(), name="events-api-detail"),
    path(
        "events/<int:event_id>/register/", event_apis.EventRegisterApi.as_view(), name="events-api-register"
    ),
    path("events/<int:event_id>/cancel/", event_apis.EventCancelApi.as_view(), name="events-api-cancel"),
    path("events/<int:event_id>/check-in/", event_apis.EventCheckInApi.as_view(), name="events-api-check-in"),
    path(
        "events/<int:event_id>/attendance/",
        event_apis.EventAttendanceApi.as_view(),
        name="events-api-attendance",
    ),
    path("camps/", camp_apis.CampListApi.as_view(), name="camps-api-list"),
    path("camps/mine/", camp_apis.MyCampsApi.as_view(), name="camps-api-mine"),
    path("camps/reviews/", camp_review_apis.ReviewQueueApi.as_view(), name="camps-api-review-queue"),
    path("camps/moderation/", camp_review_apis.ModerationQueueApi.as_view(), name="camps-api-moderation"),
    path(
        "camps/checkins/<int:checkin_id>/review/",
        camp_review_apis.CheckInReviewApi.as_view(),
        name="camps-api-review",
    ),
    path(
        "camps/checkins/<int:checkin_id>/moderate/",
        camp_review_apis.CheckInModerateApi.as_view(),
        name="camps-api-moderate",
    ),
    path("camps/<int:camp_id>/", camp_apis.CampDetailApi.as_view(), name="camps-api-detail"),
    path("camps/terms/<int:term_id>/", camp_apis.TermDetailApi.as_view(), name="camps-api-term"),
    path("camps/terms/<int:term_id>/join/", camp_apis.TermJoinApi.as_view(), name="camps-api-join"),
    path(
        "camps/terms/<int:term_id>/calendar/", camp_apis.TermCalendarApi.as_view(), name="camps-api-calendar"
    ),
    path(
        "camps/terms/<int:term_id>/checkins/", camp_apis.TermCheckInsApi.as_view(), name="camps-api-checkins"
    ),
    path(
        "camps/terms/<int:term_id>/leaderboard/",
        camp_apis.LeaderboardApi.as_view(),
        name="camps-api-leaderboard",
    ),
    path(
        "camps/terms/<int:term_id>/poster.png", achievement_apis.PosterApi.as_view(), name="camps-api-poster"
    ),
    path(
        "camps/terms/<int:term_id>/certificate/",
        achievement_apis.CertificateApi.as_view(),
        name="camps-api-certificate",
    ),
    path(
        "camps/terms/<int:term_id>/certificate.png",
        achievement_apis.CertificatePngApi.as_view(),
        name="camps-api-certificate-png",
    ),
]
