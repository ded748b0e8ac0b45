"""/api/v1/circles/<id>/posts/ and /api/v1/circles/posts/… — the feed, publishing, a post with its
comments and answers, comments, likes, pinning and featuring (精华).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import (
    TAG,
    CommentOutputSerializer,
    CommentWithRepliesSerializer,
    PostOutputSerializer,
    ScheduledPostOutputSerializer,
    feed_row_payload,
    iso_datetime,
    page_number,
    page_payload,
)
from circles.models import Comment, Post
from circles.selectors import access as access_selectors
from circles.selectors import comments as comment_selectors
from circles.selectors import feed_sql
from circles.selectors import posts as post_selectors
from circles.services import comments as comment_services
from circles.services import posts as post_services
from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError, NotEntitled
from core.parsers import CleanFormParser, CleanMultiPartParser, LimitedJSONParser


class CircleFeedApi(APIView):
    """A page of 20 posts with author, counts and liked_by_me in a fixed number of queries."""

    parser_classes = [LimitedJSONParser, CleanMultiPartParser, CleanFormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleFeedInput"

        kind = serializers.ChoiceField(
            choices=[c for c in Post.Kind.values if c != Post.Kind.ANSWER] + ["answer"],
            default=Post.Kind.TALK,
        )
        title = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
        body = serializers.CharField()
        tags = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)
        question_id = serializers.IntegerField(required=False, allow_null=True)
        images = serializers.ListField(child=serializers.ImageField(), required=False, default=list)
        publish_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="定时发布 (circle owner and admins): the post stays `scheduled`, seen by its author "
            "only, until this time; then it is published and the circle's members are notified once",
        )
        pinned = serializers.BooleanField(
            required=False, default=False, help_text="pin as an announcement (circle owner and admins)"
        )

    @extend_schema(
        tags=TAG,
        summary="Circle feed",
        operation_id="circles_feed",
        parameters=[
            OpenApiParameter("feed", OpenApiTypes.STR, enum=list(post_selectors.FEEDS)),
            OpenApiParameter("page", OpenApiTypes.INT, description="pages of 20 posts"),
            OpenApiParameter("tag", OpenApiTypes.STR),
            OpenApiParameter("q", OpenApiTypes.STR, description="search within the circle"),
        ],
        responses={
            200: paginated(PostOutputSerializer, name="CirclePostList"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, circle_id: int):
        page = page_number(request)
        feed = request.query_params.get("feed", "newest")
        tag = post_selectors.search_term(request.query_params.get("tag", ""), max_chars=20)
        q = post_selectors.search_term(request.query_params.get("q", ""), max_chars=50)
        if tag or q:
            circle, access = feed_sql.circle_get_with_access(circle_id=circle_id, user=request.user)
            if not access.can_read:
                raise NotEntitled(access.reason_text)
            posts, count = feed_sql.feed_rows(
                circle=circle, user=request.user, feed=feed, page=page, tag=tag, q=q
            )
        else:  # the hot path: access and the page in one statement
            circle, access, posts, count = feed_sql.feed_with_access(
                circle_id=circle_id, user=request.user, feed=feed, page=page
            )
            if not access.can_read:
                raise NotEntitled(access.reason_text)
        if page > 1 and not posts:
            raise NotFound(_("页码超出范围"))
        return Response(
            page_payload(
                request,
                page=page,
                count=count,
                page_size=post_selectors.FEED_PAGE_SIZE,
                # rows → the PostOutputSerializer shape directly: DRF's list machinery cost more
                # than building the 20 dicts
                results=[feed_row_payload(row) for row in posts],
            )
        )

    @extend_schema(
        tags=TAG,
        summary="Publish a post",
        operation_id="circles_post_create",
        request=InputSerializer,
        responses={201: ScheduledPostOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, circle_id: int):
        circle = access_selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        question = None
        if v.get("question_id"):
            question = Post.objects.filter(pk=v["question_id"], circle=circle).first()
        images = request.FILES.getlist("images") if hasattr(request, "FILES") else []
        post = post_services.post_create(
            circle=circle,
            author=request.user,
            kind=v["kind"],
            title=v["title"],
            body=v["body"],
            tags=v["tags"],
            images=images,
            question=question,
            publish_at=v["publish_at"],
            pinned=v["pinned"],
        )
        post.liked_by_me = False  # type: ignore[attr-defined]  # the feed's annotation, for the serializer
        return Response(ScheduledPostOutputSerializer(post).data, status=status.HTTP_201_CREATED)


class PostDetailApi(APIView):
    class OutputSerializer(PostOutputSerializer):
        class Meta:
            ref_name = "CirclePostDetailOutput"

        comments = CommentWithRepliesSerializer(
            many=True, source="comments_list", help_text="the first page of top-level comments, with replies"
        )
        comments_next = serializers.URLField(
            allow_null=True, help_text="the next page of comments (GET …/comments/?page=2), null when none"
        )
        answers = PostOutputSerializer(many=True, source="answers_list")
        publish_at = serializers.DateTimeField(
            allow_null=True, help_text="定时发布 time (its author sees a `scheduled` post before it)"
        )

    @extend_schema(
        tags=TAG,
        summary="A post with its first page of comments and its answers",
        operation_id="circles_post_retrieve",
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        page_size = Pagination.page_size
        # One row past the page tells whether there is a next page without counting the thread.
        comments = comment_selectors.with_replies(
            comment_selectors.comments_for_post(post=post, user=request.user)[: page_size + 1],
            user=request.user,
        )
        has_next = len(comments) > page_size
        comments = comments[:page_size]
        answers = (
            post_selectors.answers_for_question(post=post, user=request.user)
            if post.kind == Post.Kind.QUESTION
            else []
        )
        data = PostOutputSerializer(post).data
        data["comments"] = CommentWithRepliesSerializer(comments, many=True).data
        data["comments_next"] = (
            request.build_absolute_uri(reverse("circles-api-comment", args=[post.pk]) + "?page=2")
            if has_next
            else None
        )
        data["answers"] = PostOutputSerializer(answers, many=True).data
        data["publish_at"] = iso_datetime(post.publish_at)
        return Response(data)

    @extend_schema(
        tags=TAG,
        summary="Delete a post (author or manager)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        post_services.post_delete(post=post, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleCommentCreateInput"

        body = serializers.CharField(max_length=2000)
        parent_id = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(
        tags=TAG,
        summary="A post's top-level comments, oldest first, each with its replies",
        operation_id="circles_post_comments_list",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="pages of 20 top-level comments")],
        responses={
            200: paginated(CommentWithRepliesSerializer, name="CircleComments"),
            **error_responses(401, 404),
        },
    )
    def get(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        page, size = page_number(request), Pagination.page_size
        top_level = comment_selectors.comments_for_post(post=post, user=request.user)
        count = top_level.count()
        if page > 1 and (page - 1) * size >= count:
            raise NotFound(_("无效的页码"))
        comments = comment_selectors.with_replies(
            top_level[(page - 1) * size : page * size], user=request.user
        )
        results = CommentWithRepliesSerializer(comments, many=True).data
        return Response(page_payload(request, page=page, count=count, page_size=size, results=results))

    @extend_schema(
        tags=TAG,
        summary="Comment on a post or reply to a comment",
        request=InputSerializer,
        responses={201: CommentOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data.get("parent_id"):
            parent = Comment.objects.filter(pk=data.validated_data["parent_id"], post=post).first()
            if parent is None:
                raise ApplicationError(
                    "invalid", _("回复的评论不存在"), fields={"parent_id": [_("评论不存在")]}
                )
        comment = comment_services.comment_create(
            post=post, author=request.user, body=data.validated_data["body"], parent=parent
        )
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


def comment_for_reader(*, comment_id: int, user) -> Comment:
    """A comment on a post the user may read, or 404."""
    comment = get_object_or_404(
        Comment.objects.select_related("post__circle", "author").exclude(status=Comment.Status.DELETED),
        pk=comment_id,
    )
    post, access = post_selectors.post_get_for_reader(post_id=comment.post_id, user=user)
    if comment.status != Comment.Status.VISIBLE and not (access.can_manage or comment.author_id == user.pk):
        raise NotFound()
    comment.post = post
    return comment


class CommentDeleteApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Delete a comment (its author or a circle manager); its replies go with it",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, comment_id: int):
        comment = comment_for_reader(comment_id=comment_id, user=request.user)
        comment_services.comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostLikeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePostLikeOutput"

        liked = serializers.BooleanField()
        like_count = serializers.IntegerField()

    def _answer(self, post, liked):
        post.refresh_from_db(fields=["like_count"])
        return Response(self.OutputSerializer({"liked": liked, "like_count": post.like_count}).data)

    @extend_schema(
        tags=TAG,
        summary="Like a post (once per member)",
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def post(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        post_services.post_like(post=post, user=request.user)
        return self._answer(post, True)

    @extend_schema(
        tags=TAG, summary="Remove my like", responses={200: OutputSerializer, **error_responses(401, 404)}
    )
    def delete(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        post_services.post_unlike(post=post, user=request.user)
        return self._answer(post, False)


class PostFlagsApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePostFlagsInput"

        pinned = serializers.BooleanField(required=False, allow_null=True, default=None)
        featured = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        tags=TAG,
        summary="Pin or feature (精华) a post — owners and admins",
        request=InputSerializer,
        responses={200: PostOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, post_id: int):
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post_services.post_set_flags(post=post, actor=request.user, **data.validated_data)
        post, _access = post_selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return Response(PostOutputSerializer(post).data)
