"""/api/v1 URLs of the circles app."""

from django.urls import path

from circles import apis

urlpatterns = [
    path("circles/", apis.CircleListApi.as_view(), name="circles-api-list"),
    path("circles/tips/", apis.TipCreateApi.as_view(), name="circles-api-tip-create"),
    path("circles/tips/options/", apis.TipOptionsApi.as_view(), name="circles-api-tip-options"),
    path("circles/questions/", apis.MyPaidQuestionsApi.as_view(), name="circles-api-my-questions"),
    path(
        "circles/questions/<int:question_id>/answer/",
        apis.PaidQuestionAnswerApi.as_view(),
        name="circles-api-question-answer",
    ),
    path("circles/posts/<int:post_id>/", apis.PostDetailApi.as_view(), name="circles-api-post"),
    path(
        "circles/posts/<int:post_id>/comments/",
        apis.CommentListCreateApi.as_view(),
        name="circles-api-comment",
    ),
    path(
        "circles/comments/<int:comment_id>/",
        apis.CommentDeleteApi.as_view(),
        name="circles-api-comment-delete",
    ),
    path(
        "circles/comments/<int:comment_id>/moderate/",
        apis.CommentModerateApi.as_view(),
        name="circles-api-comment-moderate",
    ),
    path("circles/posts/<int:post_id>/like/", apis.PostLikeApi.as_view(), name="circles-api-like"),
    path("circles/posts/<int:post_id>/flags/", apis.PostFlagsApi.as_view(), name="circles-api-flags"),
    path(
        "circles/posts/<int:post_id>/moderate/", apis.PostModerateApi.as_view(), name="circles-api-moderate"
    ),
    path("circles/<int:circle_id>/", apis.CircleDetailApi.as_view(), name="circles-api-detail"),
    path("circles/<int:circle_id>/trial/", apis.CircleTrialApi.as_view(), name="circles-api-trial"),
    path("circles/<int:circle_id>/leave/", apis.CircleLeaveApi.as_view(), name="circles-api-leave"),
    path(
        "circles/<int:circle_id>/rules/accept/",
        apis.CircleRulesAcceptApi.as_view(),
        name="circles-api-rules-accept",
    ),
    path("circles/<int:circle_id>/posts/", apis.CircleFeedApi.as_view(), name="circles-api-feed"),
    path(
        "circles/<int:circle_id>/questions/",
        apis.PaidQuestionCreateApi.as_view(),
        name="circles-api-question",
    ),
    path(
        "circles/<int:circle_id>/leaderboard/", apis.LeaderboardApi.as_view(), name="circles-api-leaderboard"
    ),
    path("circles/<int:circle_id>/members/", apis.MemberListApi.as_view(), name="circles-api-members"),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/role/",
        apis.MemberRoleApi.as_view(),
        name="circles-api-member-role",
    ),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/remove/",
        apis.MemberRemoveApi.as_view(),
        name="circles-api-member-remove",
    ),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/allow-rejoin/",
        apis.MemberAllowRejoinApi.as_view(),
        name="circles-api-member-allow-rejoin",
    ),
    path("circles/<int:circle_id>/stats/", apis.CircleStatsApi.as_view(), name="circles-api-stats"),
    path(
        "circles/<int:circle_id>/moderation/",
        apis.ModerationQueueApi.as_view(),
        name="circles-api-moderation",
    ),
]
