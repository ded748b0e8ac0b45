"""Page URLs of the courses app: courses, lessons, offline events, camps and the teachers' queue."""

from django.urls import path

from courses import views

app_name = "courses"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("mine/", views.my_learning, name="mine"),
    path("<int:course_id>/", views.course_detail, name="course"),
    path("lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path("events/", views.event_list, name="events"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
    path("events/<int:event_id>/register/", views.event_register, name="event_register"),
    path("events/<int:event_id>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<int:event_id>/check-in/", views.event_checkin, name="event_checkin"),
    path("tickets/<str:code>/", views.ticket, name="ticket"),
    path("tickets/<str:code>/qr.png", views.ticket_qr, name="ticket_qr"),
    path("camps/", views.camp_list, name="camps"),
    path("camps/<int:camp_id>/", views.camp_detail, name="camp"),
    path("camps/review/", views.review_queue, name="review_queue"),
    path("camps/checkins/<int:checkin_id>/review/", views.checkin_review, name="review"),
    path("camps/checkins/<int:checkin_id>/moderate/", views.checkin_moderate, name="moderate"),
    path("camps/terms/<int:term_id>/", views.term_detail, name="term"),
    path("camps/terms/<int:term_id>/join/", views.term_join, name="term_join"),
    path("camps/terms/<int:term_id>/checkin/", views.checkin_create, name="checkin"),
    path("camps/terms/<int:term_id>/calendar/", views.term_calendar, name="calendar"),
    path("camps/terms/<int:term_id>/leaderboard/", views.term_leaderboard, name="leaderboard"),
    path("camps/terms/<int:term_id>/poster.png", views.term_poster, name="poster"),
    path("camps/terms/<int:term_id>/certificate/", views.certificate, name="certificate"),
    path("camps/terms/<int:term_id>/certificate.png", views.certificate_png, name="certificate_png"),
]
