"""/api/v1 URLs of the courses app (API.md rows 7–8: courses/, courses/<id>/, lessons/<id>/)."""

from django.urls import path

from courses import apis

urlpatterns = [
    path("courses/", apis.CourseListApi.as_view(), name="courses-api-list"),
    path("courses/mine/", apis.MyCoursesApi.as_view(), name="courses-api-mine"),
    path("courses/<int:course_id>/", apis.CourseDetailApi.as_view(), name="courses-api-detail"),
    path("lessons/<int:lesson_id>/", apis.LessonDetailApi.as_view(), name="courses-api-lesson"),
    path("lessons/<int:lesson_id>/progress/", apis.LessonProgressApi.as_view(), name="courses-api-progress"),
    path("events/", apis.EventListApi.as_view(), name="events-api-list"),
    path("events/tickets/", apis.MyTicketsApi.as_view(), name="events-api-tickets"),
    path("events/<int:event_id>/", apis.EventDetailApi.as_view(), name="events-api-detail"),
    path("events/<int:event_id>/register/", apis.EventRegisterApi.as_view(), name="events-api-register"),
    path("events/<int:event_id>/cancel/", apis.EventCancelApi.as_view(), name="events-api-cancel"),
    path("events/<int:event_id>/check-in/", apis.EventCheckInApi.as_view(), name="events-api-check-in"),
    path(
        "events/<int:event_id>/attendance/", apis.EventAttendanceApi.as_view(), name="events-api-attendance"
    ),
    path("camps/", apis.CampListApi.as_view(), name="camps-api-list"),
    path("camps/mine/", apis.MyCampsApi.as_view(), name="camps-api-mine"),
    path("camps/reviews/", apis.ReviewQueueApi.as_view(), name="camps-api-review-queue"),
    path("camps/moderation/", apis.ModerationQueueApi.as_view(), name="camps-api-moderation"),
    path("camps/checkins/<int:checkin_id>/review/", apis.CheckInReviewApi.as_view(), name="camps-api-review"),
    path(
        "camps/checkins/<int:checkin_id>/moderate/",
        apis.CheckInModerateApi.as_view(),
        name="camps-api-moderate",
    ),
    path("camps/<int:camp_id>/", apis.CampDetailApi.as_view(), name="camps-api-detail"),
    path("camps/terms/<int:term_id>/", apis.TermDetailApi.as_view(), name="camps-api-term"),
    path("camps/terms/<int:term_id>/join/", apis.TermJoinApi.as_view(), name="camps-api-join"),
    path("camps/terms/<int:term_id>/calendar/", apis.TermCalendarApi.as_view(), name="camps-api-calendar"),
    path("camps/terms/<int:term_id>/checkins/", apis.TermCheckInsApi.as_view(), name="camps-api-checkins"),
    path(
        "camps/terms/<int:term_id>/leaderboard/", apis.LeaderboardApi.as_view(), name="camps-api-leaderboard"
    ),
    path("camps/terms/<int:term_id>/poster.png", apis.PosterApi.as_view(), name="camps-api-poster"),
    path(
        "camps/terms/<int:term_id>/certificate/", apis.CertificateApi.as_view(), name="camps-api-certificate"
    ),
]
