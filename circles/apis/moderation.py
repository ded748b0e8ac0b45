"""/api/v1/circles/…/moderate/ and …/moderation/ — the queue of posts and comments held for review,
and approving or rejecting them (owners and admins).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, ModerationCommentSerializer, PostOutputSerializer
from circles.apis.posts import comment_for_reader
from circles.selectors import access as access_selectors
from circles.selectors import moderation as moderation_selectors
from circles.selectors import posts as post_selectors
from circles.services import moderation as moderation_services
from core.api import error_responses


class PostModerateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePostModerateInput"

        approve = serializers.BooleanField()
        note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        tags=TAG,
        summary="Approve or reject a post held for review — owners and admins",
        description="Approving a guest's answer to a paid question releases the fee to the guest; "
        "rejecting it opens the question again.",
        request=InputSerializer,
        responses={200: PostOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moderation_services.post_moderate(post=post, actor=request.user, **data.validated_data)
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return Response(PostOutputSerializer(post).data)


class CommentModerateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleCommentModerateInput"

        approve = serializers.BooleanField()
        note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        tags=TAG,
        summary="Approve or reject a comment held for review — owners and admins",
        request=InputSerializer,
        responses={200: ModerationCommentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, comment_id: int):
        comment = comment_for_reader(comment_id=comment_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = moderation_services.comment_moderate(
            comment=comment, actor=request.user, **data.validated_data
        )
        return Response(ModerationCommentSerializer(comment).data)


class ModerationQueueApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleModerationQueueOutput"

        posts_count = serializers.IntegerField()
        comments_count = serializers.IntegerField()
        posts = PostOutputSerializer(many=True, help_text="the oldest 50 waiting")
        comments = ModerationCommentSerializer(many=True, help_text="the oldest 50 waiting")

    @extend_schema(
        tags=TAG,
        summary="Posts and comments held for review — owners and admins",
        description="The oldest 50 of each kind and how many wait in all; approve or reject them with "
        "the moderate operations and ask again for the next ones.",
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, circle_id: int):
        circle, _access = access_selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        posts, comments = moderation_selectors.moderation_queue(circle=circle)
        waiting_posts = list(posts[:50])
        for post in waiting_posts:
            post.liked_by_me = False
        waiting_comments = list(comments[:50])
        return Response(
            self.OutputSerializer(
                {
                    "posts_count": posts.count() if len(waiting_posts) == 50 else len(waiting_posts),
                    "comments_count": comments.count()
                    if len(waiting_comments) == 50
                    else len(waiting_comments),
                    "posts": waiting_posts,
                    "comments": waiting_comments,
                }
            ).data
        )
