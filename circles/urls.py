"""Page URLs of the circles app."""

from django.urls import path

from circles.views import circles as circle_views
from circles.views import owner_tools as owner_tool_views
from circles.views import posts as post_views
from circles.views import questions as question_views
from circles.views import tips as tip_views

app_name = "circles"
urlpatterns = [
    path("", circle_views.circle_list, name="list"),
    path("mine/", circle_views.my_circles, name="mine"),
    path("<int:circle_id>/", circle_views.circle_detail, name="detail"),
    path("<int:circle_id>/trial/", circle_views.circle_trial, name="trial"),
    path("<int:circle_id>/leave/", circle_views.circle_leave, name="leave"),
    path("<int:circle_id>/rules/", circle_views.circle_rules, name="rules"),
    path("<int:circle_id>/compose/", post_views.post_compose, name="compose"),
    path("<int:circle_id>/ask/", question_views.ask, name="ask"),
    path("<int:circle_id>/leaderboard/", circle_views.leaderboard, name="leaderboard"),
    path("<int:circle_id>/manage/", owner_tool_views.manage, name="manage"),
    path("posts/<int:post_id>/", post_views.post_detail, name="post"),
    path("posts/<int:post_id>/like/", post_views.post_like_toggle, name="like"),
    path("posts/<int:post_id>/comment/", post_views.comment_add, name="comment"),
    path("posts/<int:post_id>/flags/", post_views.post_flags, name="flags"),
    path("posts/<int:post_id>/schedule/", post_views.post_schedule, name="schedule"),
    path("comments/<int:comment_id>/delete/", post_views.comment_delete, name="comment_delete"),
    path("posts/<int:post_id>/tip/", tip_views.tip, name="tip"),
    path("questions/<int:question_id>/answer/", question_views.answer, name="answer"),
]
