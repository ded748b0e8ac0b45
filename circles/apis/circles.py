"""/api/v1/circles/… — the circle list and page, the free trial, leaving, accepting the rules and
the contributor leaderboard. Access is decided by `circles.selectors.access.circle_access`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from circles.apis.payloads import TAG, AccessSerializer, AuthorSerializer, access_payload, checkout_url
from circles.selectors import access as access_selectors
from circles.selectors import members as member_selectors
from circles.selectors import mine as mine_selectors
from circles.selectors import posts as post_selectors
from circles.selectors import stats as stats_selectors
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import pricing as circle_pricing
from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError, NotEntitled


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
        page = paginator.paginate_queryset(access_selectors.circles_listed(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class MyCirclesApi(APIView):
    """我的圈子: the circles the member owns, may read, and whose membership ran out (to renew) — the
    same selector as the web page (`circles.selectors.mine.my_circles`, a fixed number of statements)."""

    class RowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MyCircleRow"

        id = serializers.IntegerField(source="circle.pk")
        name = serializers.CharField(source="circle.name")
        intro = serializers.CharField(source="circle.intro")
        cover_url = serializers.SerializerMethodField()
        owner = AuthorSerializer(source="circle.owner")
        access = serializers.SerializerMethodField()
        latest_post_id = serializers.IntegerField(allow_null=True)
        latest_post_text = serializers.CharField(allow_blank=True)
        latest_post_at = serializers.DateTimeField(allow_null=True)
        new_posts = serializers.IntegerField(help_text="others' posts of the last 7 days")

        def get_cover_url(self, row) -> str:
            return row.circle.cover.url if row.circle.cover else ""

        @extend_schema_field(AccessSerializer)
        def get_access(self, row) -> dict:
            return AccessSerializer(access_payload(row.access)).data

    @extend_schema(
        tags=TAG,
        operation_id="circles_mine",
        summary="My circles (owned, joined, run out)",
        responses={
            200: inline_serializer(
                name="MyCirclesOutput",
                fields={
                    "owned": RowSerializer(many=True),
                    "joined": RowSerializer(many=True),
                    "expired": RowSerializer(many=True),
                },
            ),
            **error_responses(401),
        },
    )
    def get(self, request):
        groups = mine_selectors.my_circles(user=request.user)
        return Response(
            {
                "owned": self.RowSerializer(groups.owned, many=True).data,
                "joined": self.RowSerializer(groups.joined, many=True).data,
                "expired": self.RowSerializer(groups.expired, many=True).data,
            }
        )


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
        renewal_due = serializers.BooleanField(
            help_text="a reader whose trial or paid time is ending (within the renewal window) or over: "
            "offer `price` now; false right after joining"
        )
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
        circle = access_selectors.circle_get(circle_id=circle_id)
        access = access_selectors.circle_access(request.user, circle)
        price, unavailable = None, ""
        try:
            p = circle_pricing.circle_price(circle=circle, user=request.user, membership=access.membership)
            price = {
                "kind": p.kind,
                "band": p.band,
                "list_price_fen": p.list_price_fen,
                "amount_fen": p.amount_fen,
                "expires_at": p.expires_at,
                "checkout_url": checkout_url("circle", circle.pk),
            }
        except ApplicationError as exc:
            unavailable = exc.code
        rules = access_selectors.current_rules(circle)
        data = {
            "id": circle.pk,
            "name": circle.name,
            "intro": circle.intro,
            "cover_url": circle.cover.url if circle.cover else "",
            "owner": circle.owner,
            "access": access_payload(access),
            "price": price,
            "price_unavailable": unavailable,
            "renewal_due": access.can_read
            and not access.via_tier
            and circle_pricing.renewal_due(circle=circle, membership=access.membership),
            "trial_days": circle.trial_days,
            "rules_version": circle.rules_version,
            "rules": rules.body if rules else "",
            "included_in_tiers": [t.code for t in circle.included_in_tiers.all()],
            "post_count": circle.visible_post_count,
            "preview": [] if access.can_read else post_selectors.preview_posts(circle=circle),
            "guests": member_selectors.guests_of(circle=circle),
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
        circle = access_selectors.circle_get(circle_id=circle_id)
        membership_services.circle_trial_start(circle=circle, user=request.user)
        access = access_selectors.circle_access(request.user, circle)
        return Response(AccessSerializer(access_payload(access)).data, status=status.HTTP_201_CREATED)


class CircleLeaveApi(APIView):
    @extend_schema(
        tags=TAG,
        summary="Leave a circle",
        request=None,
        responses={204: None, **error_responses(400, 401, 404)},
    )
    def post(self, request, circle_id: int):
        circle = access_selectors.circle_get(circle_id=circle_id)
        membership_services.circle_leave(circle=circle, user=request.user)
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
        circle = access_selectors.circle_get(circle_id=circle_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["version"] != circle.rules_version:
            raise ApplicationError(
                "rules_changed",
                _("公约已更新，请阅读最新版本"),
                status_code=409,
                extra={"rules_version": circle.rules_version},
            )
        circle_services.circle_rules_accept(circle=circle, user=request.user)
        return Response(
            AccessSerializer(access_payload(access_selectors.circle_access(request.user, circle))).data
        )


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
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(stats_selectors.PERIODS)),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: paginated(OutputSerializer, name="CircleLeaderboard"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, circle_id: int):
        circle = access_selectors.circle_get(circle_id=circle_id)
        access = access_selectors.circle_access(request.user, circle)
        if not access.can_read:
            raise NotEntitled(access.reason_text)
        rows = stats_selectors.leaderboard(circle=circle, period=request.query_params.get("period", "7d"))
        paginator = Pagination()
        # DRF pages any sequence; its stubs admit only a QuerySet.
        page: list[dict[str, object]] | None = paginator.paginate_queryset(rows, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
