"""Page URLs of the circles app."""

from django.urls import path

from circles import views

app_name = "circles"
urlpatterns = [
    path("", views.circle_list, name="list"),
    path("<int:circle_id>/", views.circle_detail, name="detail"),
    path("<int:circle_id>/trial/", views.circle_trial, name="trial"),
    path("<int:circle_id>/leave/", views.circle_leave, name="leave"),
    path("<int:circle_id>/rules/", views.circle_rules, name="rules"),
    path("<int:circle_id>/compose/", views.post_compose, name="compose"),
    path("<int:circle_id>/ask/", views.ask, name="ask"),
    path("<int:circle_id>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("<int:circle_id>/manage/", views.manage, name="manage"),
    path("posts/<int:post_id>/", views.post_detail, name="post"),
    path("posts/<int:post_id>/like/", views.post_like_toggle, name="like"),
    path("posts/<int:post_id>/comment/", views.comment_add, name="comment"),
    path("posts/<int:post_id>/flags/", views.post_flags, name="flags"),
    path("comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("posts/<int:post_id>/tip/", views.tip, name="tip"),
    path("questions/<int:question_id>/answer/", views.answer, name="answer"),
]
