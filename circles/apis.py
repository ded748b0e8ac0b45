"""/api/v1/circles/… — one APIView per operation. Access is decided by circles.selectors.circle_access."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from circles import selectors, services
from circles.models import CircleMembership, CircleSettings, Comment, PaidQuestion, Post
from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError, NotEntitled
from core.parsers import CleanFormParser, CleanMultiPartParser, LimitedJSONParser

TAG = ["circles"]


def _iso(value) -> str | None:
    """The same text DRF's DateTimeField renders (ISO 8601 in the current time zone)."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _checkout_url(item_type: str, item_id) -> str:
    from payments.orders.checkout import web_checkout_url

    return web_checkout_url(item_type=item_type, item_id=str(item_id))


def _row_payload(row: dict) -> dict:
    """A feed row from selectors.feed_rows, shaped exactly like PostOutputSerializer."""
    author = row["author"]
    return {
        "id": row["id"],
        "circle_id": row["circle_id"],
        "kind": row["kind"],
        "title": row["title"],
        "body": row["body"],
        "images": [default_storage.url(name) for name in row["images"]],
        "tags": list(row["tags"]),
        "status": row["status"],
        "is_pinned": row["is_pinned"],
        "is_featured": row["is_featured"],
        "is_answered": row["is_answered"],
        "question_id": row["question_id"],
        "like_count": row["like_count"],
        "comment_count": row["comment_count"],
        "tip_count": row["tip_count"],
        "tip_total_fen": row["tip_total_fen"],
        "liked_by_me": row["liked_by_me"],
        "created_at": _iso(row["created_at"]),
        "author": {
            "id": author["id"],
            "nickname": author["nickname"] or author["member_no"] or author["username"],
            "avatar_url": author["avatar_url"],
        },
    }


def _page_number(request) -> int:
    """The `page` query parameter like DRF's page-number pagination reads it (404 when not a page)."""
    raw = request.query_params.get(Pagination.page_query_param, "1")
    try:
        page = int(raw)
    except (TypeError, ValueError):
        raise NotFound(_("无效的页码")) from None
    if not 1 <= page <= selectors.MAX_FEED_PAGE:
        raise NotFound(_("无效的页码"))
    return page


def _page_payload(request, *, page: int, count: int, page_size: int, results) -> dict:
    """{count, next, previous, results} with next/previous as absolute URLs, exactly the shape of
    `core.api.Pagination` for a list whose total comes from a counter instead of COUNT(*)."""
    url = request.build_absolute_uri()
    param = Pagination.page_query_param
    previous = None
    if page > 1:
        previous = remove_query_param(url, param) if page == 2 else replace_query_param(url, param, page - 1)
    return {
        "count": count,
        "next": replace_query_param(url, param, page + 1) if page * page_size < count else None,
        "previous": previous,
        "results": results,
    }


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nickname = serializers.CharField(source="display_name")
    avatar_url = serializers.CharField()


class PostOutputSerializer(serializers.Serializer):
    """One post as the feed and the post page show it."""

    id = serializers.IntegerField()
    circle_id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    images = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    is_pinned = serializers.BooleanField()
    is_featured = serializers.BooleanField()
    is_answered = serializers.BooleanField()
    question_id = serializers.IntegerField(allow_null=True)
    like_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    tip_count = serializers.IntegerField()
    tip_total_fen = serializers.IntegerField()
    liked_by_me = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    author = AuthorSerializer()

    def get_images(self, post) -> list[str]:
        return post.image_urls

    def to_representation(self, post) -> dict:
        # Hand-written for speed (the feed serializes 20 of these per request; DRF's generic field walk
        # cost more than the database work). The declared fields above stay the documented schema.
        if isinstance(post, dict):
            return _row_payload(post)
        author = post.author
        return {
            "id": post.pk,
            "circle_id": post.circle_id,
            "kind": post.kind,
            "title": post.title,
            "body": post.body,
            "images": post.image_urls,
            "tags": list(post.tags),
            "status": post.status,
            "is_pinned": post.is_pinned,
            "is_featured": post.is_featured,
            "is_answered": post.is_answered,
            "question_id": post.question_id,
            "like_count": post.like_count,
            "comment_count": post.comment_count,
            "tip_count": post.tip_count,
            "tip_total_fen": post.tip_total_fen,
            "liked_by_me": bool(getattr(post, "liked_by_me", False)),
            "created_at": _iso(post.created_at),
            "author": {"id": author.pk, "nickname": author.display_name, "avatar_url": author.avatar_url},
        }


def _access_payload(access) -> dict:
    return {
        "can_read": access.can_read,
        "can_post": access.can_post,
        "can_manage": access.can_manage,
        "role": access.role,
        "reason": access.reason,
        "rules_pending": access.rules_pending,
        "via_tier": access.via_tier,
        "expires_at": access.expires_at,
    }


class AccessSerializer(serializers.Serializer):
    can_read = serializers.BooleanField()
    can_post = serializers.BooleanField()
    can_manage = serializers.BooleanField()
    role = serializers.CharField()
    reason = serializers.CharField()
    rules_pending = serializers.BooleanField()
    via_tier = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


# ---- circles -------------------------------------------------------------------------------------------


class CircleListApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleListOutput"

        id = serializers.IntegerField()
        name = serializers.CharField()
        intro = serializers.CharField()
        cover_url = serializers.SerializerMethodField()
        owner = AuthorSerializer()
        price_fen = serializers.IntegerField()
        pricing_mode = serializers.CharField()
        duration_days = serializers.IntegerField()
        trial_days = serializers.IntegerField()
        member_count = serializers.IntegerField()

        def get_cover_url(self, circle) -> str:
            return circle.cover.url if circle.cover else ""

    @extend_schema(
        tags=TAG,
        operation_id="circles_list",
        summary="List published circles",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: paginated(OutputSerializer, name="CircleList"), **error_responses(404)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.circles_listed(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class CircleDetailApi(APIView):
    """The circle page: intro, price (with the renewal band applied), rules, and a preview for non-members."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleDetailOutput"

        id = serializers.IntegerField()
        name = serializers.CharField()
        intro = serializers.CharField()
        cover_url = serializers.CharField()
        owner = AuthorSerializer()
        access = AccessSerializer()
        price = inline_serializer(
            name="CirclePrice",
            fields={
                "kind": serializers.CharField(),
                "band": serializers.CharField(),
                "list_price_fen": serializers.IntegerField(),
                "amount_fen": serializers.IntegerField(),
                "expires_at": serializers.DateTimeField(),
                "checkout_url": serializers.CharField(),
            },
            allow_null=True,
        )
        price_unavailable = serializers.CharField(allow_blank=True)
        trial_days = serializers.IntegerField()
        rules_version = serializers.IntegerField()
        rules = serializers.CharField(allow_blank=True)
        included_in_tiers = serializers.ListField(child=serializers.CharField())
        post_count = serializers.IntegerField()
        preview = serializers.ListField(child=serializers.DictField())
        guests = AuthorSerializer(many=True)
        qa_price_fen = serializers.IntegerField()

    @extend_schema(tags=TAG, summary="Circle page", responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        access = selectors.circle_access(request.user, circle)
        price, unavailable = None, ""
        try:
            p = services.circle_price(circle=circle, user=request.user, membership=access.membership)
            price = {
                "kind": p.kind,
                "band": p.band,
                "list_price_fen": p.list_price_fen,
                "amount_fen": p.amount_fen,
                "expires_at": p.expires_at,
                "checkout_url": _checkout_url("circle", circle.pk),
            }
        except ApplicationError as exc:
            unavailable = exc.code
        rules = selectors.current_rules(circle)
        data = {
            "id": circle.pk,
            "name": circle.name,
            "intro": circle.intro,
            "cover_url": circle.cover.url if circle.cover else "",
            "owner": circle.owner,
            "access": _access_payload(access),
            "price": price,
            "price_unavailable": unavailable,
            "trial_days": circle.trial_days,
            "rules_version": circle.rules_version,
            "rules": rules.body if rules else "",
            "included_in_tiers": [t.code for t in circle.included_in_tiers.all()],
            "post_count": circle.visible_post_count,
            "preview": [] if access.can_read else selectors.preview_posts(circle=circle),
            "guests": selectors.guests_of(circle=circle),
            "qa_price_fen": circle.qa_price_fen if circle.qa_enabled else 0,
        }
        return Response(self.OutputSerializer(data).data)


class CircleTrialApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Start the free trial",
        request=None,
        responses={201: AccessSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        services.circle_trial_start(circle=circle, user=request.user)
        access = selectors.circle_access(request.user, circle)
        return Response(AccessSerializer(_access_payload(access)).data, status=status.HTTP_201_CREATED)


class CircleLeaveApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Leave a circle",
        request=None,
        responses={204: None, **error_responses(400, 401, 404)},
    )
    def post(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        services.circle_leave(circle=circle, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CircleRulesAcceptApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleRulesAcceptInput"

        version = serializers.IntegerField(help_text="The version the member read; must be the current one.")

    @extend_schema(
        tags=TAG,
        summary="Accept the current rules (社群公约)",
        description="409 `rules_changed` when `version` is not the current one (the rules changed meanwhile).",
        request=InputSerializer,
        responses={200: AccessSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["version"] != circle.rules_version:
            raise ApplicationError(
                "rules_changed",
                _("公约已更新，请阅读最新版本"),
                status_code=409,
                extra={"rules_version": circle.rules_version},
            )
        services.circle_rules_accept(circle=circle, user=request.user)
        return Response(AccessSerializer(_access_payload(selectors.circle_access(request.user, circle))).data)


# ---- feed and posts --------------------------------------------------------------------------------------


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

    @extend_schema(
        tags=TAG,
        summary="Circle feed",
        operation_id="circles_feed",
        parameters=[
            OpenApiParameter("feed", OpenApiTypes.STR, enum=list(selectors.FEEDS)),
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
        page = _page_number(request)
        feed = request.query_params.get("feed", "newest")
        tag = selectors.search_term(request.query_params.get("tag", ""), max_chars=20)
        q = selectors.search_term(request.query_params.get("q", ""), max_chars=50)
        if tag or q:
            circle, access = selectors.circle_get_with_access(circle_id=circle_id, user=request.user)
            if not access.can_read:
                raise NotEntitled(access.reason_text)
            posts, count = selectors.feed_rows(
                circle=circle, user=request.user, feed=feed, page=page, tag=tag, q=q
            )
        else:  # the hot path: access and the page in one statement
            circle, access, posts, count = selectors.feed_with_access(
                circle_id=circle_id, user=request.user, feed=feed, page=page
            )
            if not access.can_read:
                raise NotEntitled(access.reason_text)
        if page > 1 and not posts:
            raise NotFound(_("页码超出范围"))
        return Response(
            _page_payload(
                request,
                page=page,
                count=count,
                page_size=selectors.FEED_PAGE_SIZE,
                # rows → the PostOutputSerializer shape directly: DRF's list machinery cost more
                # than building the 20 dicts
                results=[_row_payload(row) for row in posts],
            )
        )

    @extend_schema(
        tags=TAG,
        summary="Publish a post",
        operation_id="circles_post_create",
        request=InputSerializer,
        responses={201: PostOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        question = None
        if v.get("question_id"):
            question = Post.objects.filter(pk=v["question_id"], circle=circle).first()
        images = request.FILES.getlist("images") if hasattr(request, "FILES") else []
        post = services.post_create(
            circle=circle,
            author=request.user,
            kind=v["kind"],
            title=v["title"],
            body=v["body"],
            tags=v["tags"],
            images=images,
            question=question,
        )
        post.liked_by_me = False
        return Response(PostOutputSerializer(post).data, status=status.HTTP_201_CREATED)


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    status = serializers.CharField()
    author = AuthorSerializer()
    parent_id = serializers.IntegerField(allow_null=True)
    tip_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class CommentWithRepliesSerializer(CommentOutputSerializer):
    replies = CommentOutputSerializer(many=True, source="reply_list")


class ModerationCommentSerializer(CommentOutputSerializer):
    post_id = serializers.IntegerField()


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

    @extend_schema(
        tags=TAG,
        summary="A post with its first page of comments and its answers",
        operation_id="circles_post_retrieve",
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, post_id: int):
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        page_size = Pagination.page_size
        # One row past the page tells whether there is a next page without counting the thread.
        comments = selectors.with_replies(
            selectors.comments_for_post(post=post, user=request.user)[: page_size + 1], user=request.user
        )
        has_next = len(comments) > page_size
        comments = comments[:page_size]
        answers = (
            selectors.answers_for_question(post=post, user=request.user)
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
        return Response(data)

    @extend_schema(
        tags=TAG,
        summary="Delete a post (author or manager)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, post_id: int):
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        services.post_delete(post=post, actor=request.user)
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
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        page, size = _page_number(request), Pagination.page_size
        top_level = selectors.comments_for_post(post=post, user=request.user)
        count = top_level.count()
        if page > 1 and (page - 1) * size >= count:
            raise NotFound(_("无效的页码"))
        comments = selectors.with_replies(top_level[(page - 1) * size : page * size], user=request.user)
        results = CommentWithRepliesSerializer(comments, many=True).data
        return Response(_page_payload(request, page=page, count=count, page_size=size, results=results))

    @extend_schema(
        tags=TAG,
        summary="Comment on a post or reply to a comment",
        request=InputSerializer,
        responses={201: CommentOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, post_id: int):
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data.get("parent_id"):
            parent = Comment.objects.filter(pk=data.validated_data["parent_id"], post=post).first()
            if parent is None:
                raise ApplicationError(
                    "invalid", _("回复的评论不存在"), fields={"parent_id": [_("评论不存在")]}
                )
        comment = services.comment_create(
            post=post, author=request.user, body=data.validated_data["body"], parent=parent
        )
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


def _comment_for(*, comment_id: int, user) -> Comment:
    """A comment on a post the user may read, or 404."""
    comment = get_object_or_404(
        Comment.objects.select_related("post__circle", "author").exclude(status=Comment.Status.DELETED),
        pk=comment_id,
    )
    post, access = selectors.post_get_for_reader(post_id=comment.post_id, user=user)
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
        comment = _comment_for(comment_id=comment_id, user=request.user)
        services.comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        comment = _comment_for(comment_id=comment_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_moderate(comment=comment, actor=request.user, **data.validated_data)
        return Response(ModerationCommentSerializer(comment).data)


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
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        services.post_like(post=post, user=request.user)
        return self._answer(post, True)

    @extend_schema(
        tags=TAG, summary="Remove my like", responses={200: OutputSerializer, **error_responses(401, 404)}
    )
    def delete(self, request, post_id: int):
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        services.post_unlike(post=post, user=request.user)
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
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_set_flags(post=post, actor=request.user, **data.validated_data)
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return Response(PostOutputSerializer(post).data)


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
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_moderate(post=post, actor=request.user, **data.validated_data)
        post, _access = selectors.post_get_for_reader(post_id=post_id, user=request.user)
        return Response(PostOutputSerializer(post).data)


# ---- tips and paid questions ------------------------------------------------------------------------------


class TipOptionsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipOptionsOutput"

        presets_fen = serializers.ListField(child=serializers.IntegerField())
        min_fen = serializers.IntegerField()
        max_fen = serializers.IntegerField()
        platform_fee_bp = serializers.IntegerField()

    @extend_schema(tags=TAG, summary="Tip presets and limits", responses={200: OutputSerializer})
    def get(self, request):
        conf = CircleSettings.current()
        return Response(
            self.OutputSerializer(
                {
                    "presets_fen": conf.preset_fen,
                    "min_fen": conf.tip_min_fen,
                    "max_fen": conf.tip_max_fen,
                    "platform_fee_bp": conf.tip_platform_fee_bp,
                }
            ).data
        )


class TipCreateApi(APIView):
    """Create a tip intent; then pay it with POST /api/v1/orders/ {item_type: "tip", item_id: tip_id}."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipCreateInput"

        post_id = serializers.IntegerField(required=False, allow_null=True)
        comment_id = serializers.IntegerField(required=False, allow_null=True)
        amount_fen = serializers.IntegerField(min_value=1)
        message = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleTipCreateOutput"

        tip_id = serializers.IntegerField()
        item_type = serializers.CharField()
        item_id = serializers.CharField()
        amount_fen = serializers.IntegerField()
        author_share_fen = serializers.IntegerField()
        platform_fee_fen = serializers.IntegerField()
        checkout_url = serializers.CharField()

    @extend_schema(
        tags=TAG,
        summary="Tip a post or comment (creates the item to pay)",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        post = comment = None
        if v.get("post_id"):
            post, _a = selectors.post_get_for_reader(post_id=v["post_id"], user=request.user)
        elif v.get("comment_id"):
            comment = get_object_or_404(Comment.objects.select_related("post__circle"), pk=v["comment_id"])
            selectors.post_get_for_reader(post_id=comment.post_id, user=request.user)
        else:
            raise ApplicationError("invalid", _("请选择打赏的帖子或评论"), fields={"post_id": [_("必填")]})
        intent = services.tip_intent_create(
            user=request.user, amount_fen=v["amount_fen"], post=post, comment=comment, message=v["message"]
        )
        return Response(
            self.OutputSerializer(
                {
                    "tip_id": intent.pk,
                    "item_type": "tip",
                    "item_id": str(intent.pk),
                    "amount_fen": intent.amount_fen,
                    "author_share_fen": intent.author_share_fen,
                    "platform_fee_fen": intent.platform_fee_fen,
                    "checkout_url": _checkout_url("tip", intent.pk),
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )


class PaidQuestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    circle_id = serializers.IntegerField()
    asker = AuthorSerializer()
    guest = AuthorSerializer()
    body = serializers.CharField()
    price_fen = serializers.IntegerField()
    status = serializers.CharField(help_text="created, open, answer_review, answered, expired, refunded")
    deadline = serializers.DateTimeField(allow_null=True)
    post_id = serializers.IntegerField(allow_null=True)
    answer_post_id = serializers.IntegerField(allow_null=True)
    item_type = serializers.SerializerMethodField()
    checkout_url = serializers.SerializerMethodField()

    def get_item_type(self, obj) -> str:
        return "circle_question"

    def get_checkout_url(self, obj) -> str:
        return _checkout_url("circle_question", obj.pk) if obj.status == PaidQuestion.Status.CREATED else ""


class PaidQuestionCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePaidQuestionCreateInput"

        guest_id = serializers.IntegerField()
        body = serializers.CharField(max_length=2000)

    @extend_schema(
        tags=TAG,
        summary="Ask a guest a paid question (pay with item_type circle_question)",
        request=InputSerializer,
        responses={201: PaidQuestionOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, circle_id: int):
        from members.models import User

        circle = selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guest = User.objects.filter(pk=data.validated_data["guest_id"]).first()
        if guest is None:
            raise ApplicationError("invalid", _("嘉宾不存在"), fields={"guest_id": [_("嘉宾不存在")]})
        question = services.paid_question_create(
            circle=circle, asker=request.user, guest=guest, body=data.validated_data["body"]
        )
        return Response(PaidQuestionOutputSerializer(question).data, status=status.HTTP_201_CREATED)


class PaidQuestionAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CirclePaidQuestionAnswerInput"

        body = serializers.CharField(max_length=10000)

    @extend_schema(
        tags=TAG,
        summary="The guest answers a paid question (releases the fee)",
        request=InputSerializer,
        responses={200: PaidQuestionOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, question_id: int):
        question = get_object_or_404(
            PaidQuestion.objects.select_related("circle"), pk=question_id, guest=request.user
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.paid_question_answer(
            question=question, user=request.user, body=data.validated_data["body"]
        )
        return Response(PaidQuestionOutputSerializer(question).data)


class MyPaidQuestionsApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Paid questions I asked or must answer",
        parameters=[
            OpenApiParameter(
                "role", OpenApiTypes.STR, enum=["asked", "to_answer"], description="default: both"
            ),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(PaidQuestionOutputSerializer, name="CirclePaidQuestionList"),
            **error_responses(404),
        },
    )
    def get(self, request):
        rows = selectors.paid_questions_for_user(user=request.user, role=request.query_params.get("role", ""))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PaidQuestionOutputSerializer(page, many=True).data)


# ---- KOLs, members and stats -----------------------------------------------------------------------------


class LeaderboardApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleLeaderboardOutput"

        rank = serializers.IntegerField()
        user_id = serializers.IntegerField()
        nickname = serializers.CharField()
        role = serializers.CharField()
        posts = serializers.IntegerField()
        likes = serializers.IntegerField()
        featured = serializers.IntegerField()
        tips = serializers.IntegerField()
        tips_fen = serializers.IntegerField()
        score = serializers.IntegerField()

    @extend_schema(
        tags=TAG,
        summary="Contributor leaderboard",
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(selectors.PERIODS)),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(OutputSerializer, name="CircleLeaderboard"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, circle_id: int):
        circle = selectors.circle_get(circle_id=circle_id)
        access = selectors.circle_access(request.user, circle)
        if not access.can_read:
            raise NotEntitled(access.reason_text)
        rows = selectors.leaderboard(circle=circle, period=request.query_params.get("period", "7d"))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class MemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = AuthorSerializer()
    role = serializers.CharField()
    status = serializers.CharField()
    joined_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    via_tier = serializers.BooleanField()
    removed_with_refund = serializers.BooleanField()
    rejoin_allowed = serializers.BooleanField()


class MemberListApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Members by role and expiry — owners and admins",
        parameters=[
            OpenApiParameter("role", OpenApiTypes.STR, enum=list(CircleMembership.Role.values)),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(CircleMembership.Status.values)),
            OpenApiParameter("expiring", OpenApiTypes.BOOL, description="only members expiring soon"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(MemberOutputSerializer, name="CircleMemberList"),
            **error_responses(401, 404),
        },
    )
    def get(self, request, circle_id: int):
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        if request.query_params.get("expiring") in ("1", "true", "True"):
            rows = selectors.expiring_soon(circle=circle)
        else:
            rows = selectors.members_for_managers(
                circle=circle,
                role=request.query_params.get("role", ""),
                status=request.query_params.get("status", ""),
            )
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(MemberOutputSerializer(page, many=True).data)


def _member_for(circle, membership_id):
    return get_object_or_404(CircleMembership.objects.select_related("user"), pk=membership_id, circle=circle)


class MemberRoleApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleMemberRoleInput"

        role = serializers.ChoiceField(choices=["admin", "guest", "member"])

    @extend_schema(
        tags=TAG,
        summary="Set a member's role (owner: promote to guest/admin)",
        request=InputSerializer,
        responses={200: MemberOutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.circle_member_set_role(
            circle=circle,
            membership=_member_for(circle, membership_id),
            role=data.validated_data["role"],
            actor=request.user,
        )
        return Response(MemberOutputSerializer(membership).data)


class MemberRemoveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleMemberRemoveInput"

        refund = serializers.BooleanField(default=False)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        tags=TAG,
        summary="Remove a member, with or without a refund",
        request=InputSerializer,
        responses={200: MemberOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.circle_member_remove(
            circle=circle,
            membership=_member_for(circle, membership_id),
            actor=request.user,
            **data.validated_data,
        )
        return Response(MemberOutputSerializer(membership).data)


class MemberAllowRejoinApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Allow a member removed with refund to rejoin (owner)",
        request=None,
        responses={200: MemberOutputSerializer, **error_responses(403, 404)},
    )
    def post(self, request, circle_id: int, membership_id: int):
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        membership = services.circle_member_allow_rejoin(
            circle=circle, membership=_member_for(circle, membership_id), actor=request.user
        )
        return Response(MemberOutputSerializer(membership).data)


class CircleStatsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CircleStatsOutput"

        members = serializers.IntegerField(help_text="paying members, trials and staff in the circle now")
        tier_members = serializers.IntegerField(help_text="members through their membership tier")
        trials = serializers.IntegerField()
        guests = serializers.IntegerField()
        joined = serializers.IntegerField(help_text="joins in the period")
        renewed = serializers.IntegerField(help_text="renewals in the period")
        base = serializers.IntegerField(help_text="paying members at the start of the period")
        churned = serializers.IntegerField(help_text="of base: left + removed + lapsed by the end")
        left = serializers.IntegerField()
        removed = serializers.IntegerField()
        lapsed = serializers.IntegerField(help_text="paid time ran out without renewing")
        churn_bp = serializers.IntegerField(help_text="退群率 = churned / base, basis points")
        posts = serializers.IntegerField()
        posts_per_day = serializers.FloatField()
        tips_count = serializers.IntegerField()
        tips_fen = serializers.IntegerField()
        days = serializers.IntegerField()

    @extend_schema(
        tags=TAG,
        summary="Circle stats (members, churn 退群率, posts/day, tips) — owners and admins",
        parameters=[OpenApiParameter("days", OpenApiTypes.INT)],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, circle_id: int):
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        try:
            days = min(365, max(1, int(request.query_params.get("days", 30))))
        except ValueError:
            days = 30
        return Response(self.OutputSerializer(selectors.circle_stats(circle=circle, days=days)).data)


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
        circle, _access = selectors.circle_for_owner_tools(circle_id=circle_id, user=request.user)
        posts, comments = selectors.moderation_queue(circle=circle)
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
