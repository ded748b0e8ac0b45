"""/api/v1/referrals/…: the referral center for the mini-program — my code and links, the people I
invited, my commissions and earnings, the leaderboard, the promoter agreement and posters (API.md row 9
is fixed)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError
from core.ip import client_ip
from payments.wallet import ledger
from referrals import agreements, codes, posters, selectors
from referrals.commissions import points_for
from referrals.models import Commission, LinkChannel

TAG = ["referrals"]


class ReferralMeApi(APIView):
    """API.md row 9: the caller's code, share link, invited count and earnings (fixed shape)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralMe"

        class EarningsSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReferralMeEarnings"

            pending_fen = serializers.IntegerField()
            available_fen = serializers.IntegerField()
            withdrawn_fen = serializers.IntegerField()

        code = serializers.CharField()
        share_url = serializers.CharField()
        invited_count = serializers.IntegerField()
        earnings = EarningsSerializer()

    @extend_schema(
        tags=TAG,
        summary="My referral code, link and earnings",
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        user = request.user
        balances = ledger.balances(user)
        return Response(
            self.OutputSerializer(
                {
                    "code": user.referral_code,
                    "share_url": codes.share_url(user),
                    "invited_count": selectors.invited_count(user),
                    "earnings": {
                        "pending_fen": balances.pending_fen,
                        "available_fen": balances.available_fen,
                        "withdrawn_fen": balances.withdrawn_fen,
                    },
                }
            ).data
        )


class ReferralLinksApi(APIView):
    """Share links per channel, the mini-program path, and visits/sign-ups counted per channel."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralLinks"

        class StatSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReferralLinkStat"

            channel = serializers.ChoiceField(choices=LinkChannel.values)
            label = serializers.CharField()  # type: ignore[assignment]  # the output field is "label" (API)
            visits = serializers.IntegerField()
            signups = serializers.IntegerField()

        code = serializers.CharField()
        share_url = serializers.CharField()
        links = serializers.DictField(child=serializers.CharField(), help_text="channel → share URL")
        miniprogram_path = serializers.CharField(help_text="path for wx.navigateTo / share cards")
        stats = StatSerializer(many=True)

    @extend_schema(
        tags=TAG,
        summary="My share links and their counts",
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        user = request.user
        return Response(
            self.OutputSerializer(
                {
                    "code": user.referral_code,
                    "share_url": codes.share_url(user),
                    "links": {
                        c: codes.share_url(user, channel=c) for c in LinkChannel.values if c != "other"
                    },
                    "miniprogram_path": codes.miniprogram_path(user),
                    "stats": selectors.link_stats(user),
                }
            ).data
        )


class ReferralInvitedApi(APIView):
    """People I brought (newest first); names are masked."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralInvited"

        name = serializers.CharField()
        bound_at = serializers.DateTimeField()
        expires_at = serializers.DateTimeField(allow_null=True)
        channel = serializers.CharField()
        has_paid = serializers.BooleanField()

    @extend_schema(
        tags=TAG,
        summary="People I invited",
        responses={200: paginated(OutputSerializer, name="ReferralInvitedList"), **error_responses(401)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.invited_bindings(request.user), request, view=self)
        rows = [
            {
                "name": selectors.mask_name(b.user.display_name),
                "bound_at": b.bound_at,
                "expires_at": b.expires_at,
                "channel": b.channel,
                "has_paid": b.has_paid,
            }
            for b in page
        ]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)


class ReferralCommissionsApi(APIView):
    """My commissions, newest first, with the ledger state of each cash reward."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralCommission"

        id = serializers.IntegerField()
        title = serializers.CharField()
        level = serializers.IntegerField()
        buyer = serializers.CharField()
        base_fen = serializers.IntegerField()
        rate_bp = serializers.IntegerField()
        amount_fen = serializers.IntegerField()
        reversed_fen = serializers.IntegerField()
        reward_kind = serializers.CharField()
        points = serializers.IntegerField()
        status = serializers.ChoiceField(choices=Commission.Status.values)
        skip_reason = serializers.CharField()
        ledger_status = serializers.CharField(
            allow_blank=True, help_text="held / settled / voided / clawed_back"
        )
        hold_until = serializers.DateTimeField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        tags=TAG,
        summary="My commissions",
        responses={200: paginated(OutputSerializer, name="ReferralCommissionList"), **error_responses(401)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.commissions_of(request.user), request, view=self)
        rows = [
            {
                "id": c.pk,
                "title": c.order.title,
                "level": c.level,
                "buyer": selectors.mask_name(c.buyer.display_name),
                "base_fen": c.base_fen,
                "rate_bp": c.rate_bp,
                "amount_fen": c.amount_fen,
                "reversed_fen": c.reversed_fen,
                "reward_kind": c.reward_kind,
                "points": c.points_awarded or points_for(c.net_fen, c.points_per_yuan),
                "status": c.status,
                "skip_reason": c.skip_reason,
                "ledger_status": c.earning.status if c.earning_id else "",
                "hold_until": c.hold_until,
                "created_at": c.created_at,
            }
            for c in page
        ]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)


class ReferralEarningsApi(APIView):
    """Earnings by state: ledger balances plus commission totals and point rewards."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralEarnings"

        pending_fen = serializers.IntegerField()
        available_fen = serializers.IntegerField()
        withdrawing_fen = serializers.IntegerField()
        withdrawn_fen = serializers.IntegerField()
        receivable_fen = serializers.IntegerField(help_text="≤ 0: what is owed after a clawback")
        commission_total_fen = serializers.IntegerField()
        reversed_fen = serializers.IntegerField()
        skipped_fen = serializers.IntegerField(help_text="not paid: agreement not accepted, blocked …")
        points_pending = serializers.IntegerField()
        points_awarded = serializers.IntegerField()

    @extend_schema(
        tags=TAG, summary="My earnings by state", responses={200: OutputSerializer, **error_responses(401)}
    )
    def get(self, request):
        return Response(self.OutputSerializer(selectors.earnings_by_state(request.user)).data)


class ReferralLeaderboardApi(APIView):
    """This month's top promoters by commission (names masked)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralLeaderRow"

        rank = serializers.IntegerField()
        name = serializers.CharField()
        amount_fen = serializers.IntegerField()
        orders = serializers.IntegerField()
        is_me = serializers.BooleanField()

    @extend_schema(
        tags=TAG,
        summary="Promoter leaderboard (this month)",
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        rows = [
            {
                "rank": r.rank,
                "name": r.name,
                "amount_fen": r.amount_fen,
                "orders": r.orders,
                "is_me": r.user_id == request.user.pk,
            }
            for r in selectors.leaderboard()
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


class ReferralAgreementApi(APIView):
    """The current promoter agreement and whether I have accepted what is required to earn."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralAgreement"

        version = serializers.IntegerField(allow_null=True)
        title = serializers.CharField(allow_blank=True)
        body = serializers.CharField(allow_blank=True)
        published_at = serializers.DateTimeField(allow_null=True)
        accepted = serializers.BooleanField(help_text="true when I may earn commission")

    @extend_schema(
        tags=TAG, summary="Promoter agreement", responses={200: OutputSerializer, **error_responses(401)}
    )
    def get(self, request):
        current = agreements.agreement_current()
        return Response(
            self.OutputSerializer(
                {
                    "version": current.version if current else None,
                    "title": current.title if current else "",
                    "body": current.body if current else "",
                    "published_at": current.published_at if current else None,
                    "accepted": agreements.agreement_accepted(request.user),
                }
            ).data
        )


class ReferralAgreementAcceptApi(APIView):
    """Accept the current version (send the version you showed; an outdated one is refused)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralAgreementAcceptInput"

        version = serializers.IntegerField(min_value=1)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralAgreementAccepted"

        version = serializers.IntegerField()
        accepted_at = serializers.DateTimeField()

    @extend_schema(
        tags=TAG,
        summary="Accept the promoter agreement",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = agreements.agreement_current()
        if current is None:
            raise ApplicationError("agreement_not_published", _("暂无推广员协议"), status_code=404)
        if current.version != data.validated_data["version"]:
            raise ApplicationError(
                "agreement_outdated",
                _("协议已更新，请阅读最新版本后再确认"),
                status_code=409,
                extra={"current_version": current.version},
            )
        acceptance = agreements.agreement_accept(
            user=request.user,
            agreement=current,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(
            self.OutputSerializer({"version": current.version, "accepted_at": acceptance.accepted_at}).data,
            status=status.HTTP_201_CREATED,
        )


class ReferralPosterApi(APIView):
    """A PNG poster (750×1200) for any item (or the community) with my code and QR link."""

    @extend_schema(
        tags=TAG,
        summary="Referral poster (PNG)",
        parameters=[
            OpenApiParameter("item_type", OpenApiTypes.STR, required=False),
            OpenApiParameter("item_id", OpenApiTypes.STR, required=False),
            OpenApiParameter(
                "group_id", OpenApiTypes.INT, required=False, description="a group-buy invitation"
            ),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG image"),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request):
        group_id = request.query_params.get("group_id", "").strip()
        if group_id.isdigit():
            png = posters.group_poster_png(user=request.user, group=selectors.group_get(int(group_id)))
        else:
            png = posters.referral_poster_png(
                user=request.user,
                item_type=request.query_params.get("item_type", "").strip(),
                item_id=request.query_params.get("item_id", "").strip(),
            )
        return HttpResponse(png, content_type="image/png")
