"""/api/v1 URLs of the circles app."""

from django.urls import path

from circles.apis import circles as circle_apis
from circles.apis import moderation as moderation_apis
from circles.apis import owner_tools as owner_tool_apis
from circles.apis import posts as post_apis
from circles.apis import questions as question_apis
from circles.apis import scheduling as scheduling_apis
from circles.apis import tips as tip_apis

urlpatterns = [
    path("circles/", circle_apis.CircleListApi.as_view(), name="circles-api-list"),
    path("circles/mine/", circle_apis.MyCirclesApi.as_view(), name="circles-api-mine"),
    path("circles/tips/", tip_apis.TipCreateApi.as_view(), name="circles-api-tip-create"),
    path("circles/tips/options/", tip_apis.TipOptionsApi.as_view(), name="circles-api-tip-options"),
    path("circles/questions/", question_apis.MyPaidQuestionsApi.as_view(), name="circles-api-my-questions"),
    path(
        "circles/questions/<int:question_id>/answer/",
        question_apis.PaidQuestionAnswerApi.as_view(),
        name="circles-api-question-answer",
    ),
    path("circles/posts/<int:post_id>/", post_apis.PostDetailApi.as_view(), name="circles-api-post"),
    path(
        "circles/posts/<int:post_id>/comments/",
        post_apis.CommentListCreateApi.as_view(),
        name="circles-api-comment",
    ),
    path(
        "circles/comments/<int:comment_id>/",
        post_apis.CommentDeleteApi.as_view(),
        name="circles-api-comment-delete",
    ),
    path(
        "circles/comments/<int:comment_id>/moderate/",
        moderation_apis.CommentModerateApi.as_view(),
        name="circles-api-comment-moderate",
    ),
    path(
        "circles/posts/<int:post_id>/schedule/",
        scheduling_apis.PostScheduleApi.as_view(),
        name="circles-api-post-schedule",
    ),
    path(
        "circles/posts/<int:post_id>/publish/",
        scheduling_apis.PostPublishNowApi.as_view(),
        name="circles-api-post-publish",
    ),
    path("circles/posts/<int:post_id>/like/", post_apis.PostLikeApi.as_view(), name="circles-api-like"),
    path("circles/posts/<int:post_id>/flags/", post_apis.PostFlagsApi.as_view(), name="circles-api-flags"),
    path(
        "circles/posts/<int:post_id>/moderate/",
        moderation_apis.PostModerateApi.as_view(),
        name="circles-api-moderate",
    ),
    path("circles/<int:circle_id>/", circle_apis.CircleDetailApi.as_view(), name="circles-api-detail"),
    path("circles/<int:circle_id>/trial/", circle_apis.CircleTrialApi.as_view(), name="circles-api-trial"),
    path("circles/<int:circle_id>/leave/", circle_apis.CircleLeaveApi.as_view(), name="circles-api-leave"),
    path(
        "circles/<int:circle_id>/rules/accept/",
        circle_apis.CircleRulesAcceptApi.as_view(),
        name="circles-api-rules-accept",
    ),
    path("circles/<int:circle_id>/posts/", post_apis.CircleFeedApi.as_view(), name="circles-api-feed"),
    path(
        "circles/<int:circle_id>/posts/scheduled/",
        scheduling_apis.MyScheduledPostsApi.as_view(),
        name="circles-api-scheduled",
    ),
    path(
        "circles/<int:circle_id>/questions/",
        question_apis.PaidQuestionCreateApi.as_view(),
        name="circles-api-question",
    ),
    path(
        "circles/<int:circle_id>/leaderboard/",
        circle_apis.LeaderboardApi.as_view(),
        name="circles-api-leaderboard",
    ),
    path(
        "circles/<int:circle_id>/members/",
        owner_tool_apis.MemberListApi.as_view(),
        name="circles-api-members",
    ),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/role/",
        owner_tool_apis.MemberRoleApi.as_view(),
        name="circles-api-member-role",
    ),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/remove/",
        owner_tool_apis.MemberRemoveApi.as_view(),
        name="circles-api-member-remove",
    ),
    path(
        "circles/<int:circle_id>/members/<int:membership_id>/allow-rejoin/",
        owner_tool_apis.MemberAllowRejoinApi.as_view(),
        name="circles-api-member-allow-rejoin",
    ),
    path(
        "circles/<int:circle_id>/stats/", owner_tool_apis.CircleStatsApi.as_view(), name="circles-api-stats"
    ),
    path(
        "circles/<int:circle_id>/moderation/",
        moderation_apis.ModerationQueueApi.as_view(),
        name="circles-api-moderation",
    ),
]
