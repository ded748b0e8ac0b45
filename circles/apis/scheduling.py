"""/api/v1/circles/…/scheduled/ and …/schedule/ — a circle manager's scheduled posts (定时发布): the
author's list, editing one before its time and publishing it at once. Scheduling itself is the
`publish_at` of `POST /api/v1/circles/<id>/posts/`; cancelling is `DELETE /api/v1/circles/posts/<id>/`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, ScheduledPostOutputSerializer, page_payload
from circles.selectors import access as access_selectors
from circles.selectors import posts as post_selectors
from circles.services import scheduling
from core.api import error_responses, paginated
from core.errors import NotEntitled


class MyScheduledPostsApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="My posts in this circle waiting for their publish time, soonest first",
        operation_id="circles_scheduled_posts",
        responses={
            200: paginated(ScheduledPostOutputSerializer, name="CircleScheduledPostList"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, circle_id: int):
        circle = access_selectors.circle_get(circle_id=circle_id)
        access = access_selectors.circle_access(request.user, circle)
        if not access.can_read:
            raise NotEntitled(access.reason_text or None)
        posts = post_selectors.scheduled_posts_of_author(circle=circle, user=request.user)
        results = ScheduledPostOutputSerializer(posts, many=True).data
        # never more than a handful: one page holds them all
        return Response(
            page_payload(request, page=1, count=len(posts), page_size=len(posts) or 1, results=results)
        )


def _own_unpublished(*, post_id: int, user):
    post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=user)
    if post.author_id != user.pk or post.status not in scheduling.UNPUBLISHED or post.publish_at is None:
        raise NotFound()
    return post


class PostScheduleApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePostScheduleInput"

        publish_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        title = serializers.CharField(required=False, allow_blank=True, max_length=120, default=None)
        body = serializers.CharField(required=False, default=None)
        tags = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=None)

    @extend_schema(
        tags=TAG,
        summary="Edit my scheduled post before its time (publish time, title, body, tags)",
        operation_id="circles_post_reschedule",
        request=InputSerializer,
        responses={200: ScheduledPostOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request, post_id: int):
        post = _own_unpublished(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = scheduling.post_reschedule(post=post, actor=request.user, **data.validated_data)
        return Response(ScheduledPostOutputSerializer(post).data)


class PostPublishNowApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Publish my scheduled post now (the circle's members are notified once)",
        operation_id="circles_post_publish_now",
        request=None,
        responses={200: ScheduledPostOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, post_id: int):
        post = _own_unpublished(post_id=post_id, user=request.user)
        post = scheduling.post_publish_now(post=post, actor=request.user)
        return Response(ScheduledPostOutputSerializer(post).data)
