"""Page URLs of the courses app: courses, lessons, protected media playback, quizzes, homework and
certificates, offline events, camps and the teachers' queue."""

from django.urls import path

from courses.camps import views as camp_views
from courses.catalog import views as catalog_views
from courses.events import views as event_views
from courses.learning import views as learning_views
from courses.media import views as media_views

app_name = "courses"
urlpatterns = [
    path("", catalog_views.catalog, name="catalog"),
    path("mine/", catalog_views.my_learning, name="mine"),
    path("mine/tickets/", event_views.my_tickets, name="my_tickets"),
    path("mine/camps/", camp_views.my_camps, name="my_camps"),
    path("<int:course_id>/", catalog_views.course_detail, name="course"),
    path("lessons/<int:lesson_id>/", catalog_views.lesson_detail, name="lesson"),
    # Signed playback of protected media (courses.media.views): playlists and the AES-128 key.
    path("media/<str:token>/master.m3u8", media_views.master, name="media_master"),
    path("media/<str:token>/<slug:name>/index.m3u8", media_views.rendition, name="media_rendition"),
    path("media/<str:token>/key", media_views.key, name="media_key"),
    path("lessons/<int:lesson_id>/quiz/", learning_views.quiz_submit, name="quiz_submit"),
    path("lessons/<int:lesson_id>/homework/", learning_views.homework_submit, name="homework_submit"),
    path("<int:course_id>/certificate/", learning_views.course_certificate, name="course_certificate"),
    path(
        "<int:course_id>/certificate.png",
        learning_views.course_certificate_png,
        name="course_certificate_png",
    ),
    path("homework/review/", learning_views.homework_review_queue, name="homework_review_queue"),
    path("homework/<int:submission_id>/review/", learning_views.homework_review, name="homework_review"),
    path("events/", event_views.event_list, name="events"),
    path("events/<int:event_id>/", event_views.event_detail, name="event"),
    path("events/<int:event_id>/register/", event_views.event_register, name="event_register"),
    path("events/<int:event_id>/cancel/", event_views.event_cancel, name="event_cancel"),
    path("events/<int:event_id>/check-in/", event_views.event_checkin, name="event_checkin"),
    path("tickets/<str:code>/", event_views.ticket, name="ticket"),
    path("tickets/<str:code>/qr.png", event_views.ticket_qr, name="ticket_qr"),
    path("camps/", camp_views.camp_list, name="camps"),
    path("camps/<int:camp_id>/", camp_views.camp_detail, name="camp"),
    path("camps/review/", camp_views.review_queue, name="review_queue"),
    path("camps/checkins/<int:checkin_id>/review/", camp_views.checkin_review, name="review"),
    path("camps/checkins/<int:checkin_id>/moderate/", camp_views.checkin_moderate, name="moderate"),
    path("camps/terms/<int:term_id>/", camp_views.term_detail, name="term"),
    path("camps/terms/<int:term_id>/join/", camp_views.term_join, name="term_join"),
    path("camps/terms/<int:term_id>/checkin/", camp_views.checkin_create, name="checkin"),
    path("camps/terms/<int:term_id>/calendar/", camp_views.term_calendar, name="calendar"),
    path("camps/terms/<int:term_id>/leaderboard/", camp_views.term_leaderboard, name="leaderboard"),
    path("camps/terms/<int:term_id>/poster.png", camp_views.term_poster, name="poster"),
    path("camps/terms/<int:term_id>/certificate/", camp_views.certificate, name="certificate"),
    path("camps/terms/<int:term_id>/certificate.png", camp_views.certificate_png, name="certificate_png"),
]
