"""/api/v1 of members: login, me, tiers and memberships, onboarding, notifications, points.

One APIView per operation with its own small Input/Output serializers (CONVENTIONS.md).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenRefreshView

from core.api import Pagination, error_responses, paginated
from core.errors import ApplicationError
from core.sessions import log_out_everywhere, refresh_token_revoke
from core.tokens import SafeTokenRefreshSerializer
from members import selectors, services
from members.models import SubscribeTemplate

# ---- notifications -------------------------------------------------------------------------------------


class NotificationOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Notification"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    read = serializers.BooleanField(source="is_read")
    created_at = serializers.DateTimeField()


class NotificationPagination(Pagination):
    """The usual envelope plus `unread_count` (for the badge on the mini-program's tab)."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread_count"] = self.unread_count
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread_count"] = {"type": "integer"}
        return schema


class NotificationsApi(APIView):
    """The caller's notifications, newest first, with the unread count."""

    pagination_class = NotificationPagination

    @extend_schema(
        operation_id="notifications_list",
        tags=["notifications"],
        responses={200: NotificationOutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        paginator = NotificationPagination()
        paginator.unread_count = selectors.unread_notifications_count(request.user)
        page = paginator.paginate_queryset(selectors.notifications_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    """Mark one of the caller's notifications read (404 for anyone else's)."""

    @extend_schema(
        operation_id="notifications_read",
        tags=["notifications"],
        request=None,
        responses={200: NotificationOutputSerializer, **error_responses(401, 404)},
    )
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(NotificationOutputSerializer(notification).data)


class NotificationsReadAllApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NotificationsReadAll"

        marked = serializers.IntegerField()
        unread_count = serializers.IntegerField()

    @extend_schema(
        operation_id="notifications_read_all",
        tags=["notifications"],
        request=None,
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def post(self, request):
        marked = services.notifications_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})


class SubscribeOptInsApi(APIView):
    """Subscribe-message opt-ins (one-time: each accepted prompt allows one message).

    GET lists the configured templates with the caller's opt-ins left — the template ids to pass to
    `wx.requestSubscribeMessage`. POST records its result: `{"results": {"<template id or key>":
    "accept" | "reject" | "ban" | "filter"}}` (the object WeChat's success callback returns).
    """

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubscribeOptInInput"

        results = serializers.DictField(
            child=serializers.CharField(max_length=16),
            allow_empty=False,
            help_text="wx.requestSubscribeMessage result: template id (or key) → accept/reject/ban/filter",
        )

    class OptInSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubscribeOptIn"

        template_key = serializers.CharField()
        template_id = serializers.CharField()
        name = serializers.CharField()
        remaining = serializers.IntegerField()

    OutputSerializer = inline_serializer(
        name="SubscribeOptIns",
        fields={
            "opt_ins": OptInSerializer(many=True),
            "ignored": serializers.ListField(child=serializers.CharField()),
        },
    )

    @extend_schema(
        operation_id="notifications_opt_ins_list",
        tags=["notifications"],
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response({"opt_ins": selectors.subscribe_optins_for_user(request.user), "ignored": []})

    @extend_schema(
        operation_id="notifications_opt_ins_record",
        tags=["notifications"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = data.validated_data["results"]
        if len(results) > 20:
            raise ApplicationError(
                "invalid", _("一次最多记录 20 个模板"), fields={"results": [_("太多模板")]}
            )
        templates = SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="")
        by_id = {t.template_id: t for t in templates}
        by_key = {t.key: t for t in templates}
        ignored, known = [], 0
        for name, answer in results.items():
            template = by_id.get(name) or by_key.get(name)
            if template is None:
                ignored.append(name)
                continue
            known += 1
            if answer == "accept":
                services.subscribe_optin_record(user=request.user, template_key=template.key, count=1)
        if not known:
            raise ApplicationError(
                "unknown_template", _("未知的订阅消息模板"), fields={"results": [_("没有可识别的模板")]}
            )
        return Response({"opt_ins": selectors.subscribe_optins_for_user(request.user), "ignored": ignored})


# ---- login and me (API.md rows 1–2) ----------------------------------------------------------------------


class LoginUserSerializer(serializers.Serializer):
    class Meta:
        ref_name = "LoginUser"

    id = serializers.IntegerField()
    nickname = serializers.CharField()
    member_no = serializers.CharField(allow_null=True)


class MiniProgramLoginApi(APIView):
    """Row 1: `wx.login` code → JWT pair. Invalid codes, WeChat errors and timeouts give
    `400 wechat_login_failed`. `referral_code` binds a *new* user's referrer once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MiniProgramLoginInput"

        code = serializers.CharField(max_length=128)
        referral_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MiniProgramLogin"

        access = serializers.CharField()
        refresh = serializers.CharField()
        user = LoginUserSerializer()

    @extend_schema(
        operation_id="auth_wechat_miniprogram",
        tags=["auth"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 403, 429)},
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise services.WeChatLoginFailed(_("登录凭证无效"))
        user, _created = services.miniprogram_login(
            code=data.validated_data["code"], referral_code=data.validated_data["referral_code"]
        )
        return Response(self.OutputSerializer({**services.jwt_pair(user), "user": user}).data)


class TokenRefreshApi(TokenRefreshView):
    """Trade a refresh token for a new pair (the old refresh token is blacklisted: rotation)."""

    serializer_class = SafeTokenRefreshSerializer  # a deleted user's token: 401, not 500

    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        responses={200: TokenRefreshSerializer, **error_responses(400, 401)},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Log out in the mini-program: its refresh token is revoked (blacklisted), so the session ends now,
    not when the token's 30 days run out. `everywhere: true` also revokes every other refresh token and
    ends every web session of the member."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LogoutInput"

        refresh = serializers.CharField(max_length=2048)
        everywhere = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="auth_logout",
        tags=["auth"],
        request=InputSerializer,
        responses={204: None, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refresh_token_revoke(user=request.user, token=data.validated_data["refresh"])
        if data.validated_data["everywhere"]:
            log_out_everywhere(request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembershipBriefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipBrief"

    tier = serializers.CharField(source="tier_code")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class MeApi(APIView):
    """Row 2: who am I. `membership` is null without an active membership."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Me"

        id = serializers.IntegerField()
        nickname = serializers.CharField()
        member_no = serializers.CharField(allow_null=True)
        membership = MembershipBriefSerializer(allow_null=True)
        referral_code = serializers.CharField()
        phone = serializers.CharField(source="masked_phone", help_text="masked: 138****5678")
        avatar_url = serializers.CharField()
        points_balance = serializers.IntegerField()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MeUpdate"

        nickname = serializers.CharField(max_length=64, required=False)
        avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    @extend_schema(
        operation_id="me_retrieve", tags=["me"], responses={200: OutputSerializer, **error_responses(401)}
    )
    def get(self, request):
        return Response(self._output(request.user))

    @extend_schema(
        operation_id="me_update",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.me_update(user=request.user, **data.validated_data)
        return Response(self._output(request.user))

    def _output(self, user) -> dict:
        membership, points = selectors.membership_and_points(user)
        return self.OutputSerializer(
            {
                "id": user.pk,
                "nickname": user.nickname,
                "member_no": user.member_no,
                "membership": membership,
                "referral_code": user.referral_code,
                "masked_phone": user.masked_phone,
                "avatar_url": user.avatar_url,
                "points_balance": points,
            }
        ).data


class PhoneBindApi(APIView):
    """Bind the member's phone from a `getPhoneNumber` button code (encrypted at rest)."""

    throttle_scope = "sms"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PhoneBindInput"

        code = serializers.CharField(max_length=128)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PhoneBound"

        phone = serializers.CharField(help_text="masked")
        phone_verified = serializers.BooleanField()

    @extend_schema(
        operation_id="me_phone_bind",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.miniprogram_phone_bind(user=request.user, code=data.validated_data["code"])
        return Response({"phone": user.masked_phone, "phone_verified": user.phone_verified})


# ---- tiers and memberships (row 3) -------------------------------------------------------------------------


class TiersApi(APIView):
    """Row 3: the tiers on sale, lowest rank first (not paginated)."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipTierItem"

        code = serializers.CharField()
        name = serializers.CharField()
        price_fen = serializers.IntegerField()
        duration_days = serializers.IntegerField()
        benefits = serializers.ListField(child=serializers.CharField(), source="benefit_list")
        rank = serializers.IntegerField()
        single_purchase_discount_bp = serializers.IntegerField()

    @extend_schema(
        operation_id="membership_tiers_list",
        tags=["membership"],
        responses={200: OutputSerializer(many=True)},
        auth=[],
    )
    def get(self, request):
        return Response(self.OutputSerializer(selectors.tiers_for_sale(), many=True).data)


class QuoteLineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipQuoteLine"

    label = serializers.CharField()
    amount_fen = serializers.IntegerField()


class MembershipQuoteApi(APIView):
    """What buying a tier costs the caller now: `start`, `renew` (from the current end) or `upgrade`
    (price minus the unused part of the current membership). Buying a lower tier while a higher one
    is active is `400 lower_tier_active`."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipQuote"

        tier = serializers.CharField()
        kind = serializers.CharField(help_text="start | renew | upgrade")
        title = serializers.CharField()
        list_price_fen = serializers.IntegerField()
        amount_fen = serializers.IntegerField()
        credit_fen = serializers.IntegerField()
        unused_days = serializers.IntegerField()
        lines = QuoteLineSerializer(many=True)

    @extend_schema(
        operation_id="membership_quote",
        tags=["membership"],
        parameters=[OpenApiParameter("tier", str, required=True, description="tier code, e.g. KA")],
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        from payments import items

        code = (request.query_params.get("tier") or "").strip()
        if not code:
            raise ApplicationError("invalid", _("请指定会员等级"), fields={"tier": [_("必填")]})
        quote = items.quote(user=request.user, item_type="membership", item_id=code)
        return Response(
            self.OutputSerializer(
                {
                    "tier": quote.context["tier"],
                    "kind": quote.context["kind"],
                    "title": quote.title,
                    "list_price_fen": quote.list_price_fen,
                    "amount_fen": quote.amount_fen,
                    "credit_fen": quote.context.get("credit_fen", 0),
                    "unused_days": quote.context.get("unused_days", 0),
                    "lines": quote.lines,
                }
            ).data
        )


class GrantSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MembershipGrant"

    kind = serializers.CharField()
    source = serializers.CharField()
    tier = serializers.CharField(source="tier.code")
    days = serializers.IntegerField()
    credit_fen = serializers.IntegerField()
    order_no = serializers.CharField(source="order.order_no", allow_null=True, default=None)
    ends_after = serializers.DateTimeField()
    revoked = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_revoked(self, grant) -> bool:
        return grant.revoked_at is not None


class MembershipDetailApi(APIView):
    """One of the caller's memberships with its history (404 for anyone else's id)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipDetail"

        id = serializers.IntegerField()
        tier = serializers.CharField(source="tier.code")
        tier_name = serializers.CharField(source="tier.name")
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        active = serializers.BooleanField()
        days_left = serializers.IntegerField()
        member_no = serializers.CharField(source="user.member_no", allow_null=True)
        grants = GrantSerializer(many=True, source="grants_list")

    @extend_schema(
        operation_id="memberships_retrieve",
        tags=["membership"],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, membership_id: int):
        membership = selectors.membership_get_for_user(user=request.user, membership_id=membership_id)
        if membership is None:
            raise NotFound()
        membership.active = membership.starts_at <= timezone.now() < membership.ends_at
        membership.days_left = selectors.days_left(membership)
        membership.grants_list = list(selectors.membership_grants(membership))
        return Response(self.OutputSerializer(membership).data)


class MyMembershipApi(APIView):
    """The caller's membership (active or expired) with days left, and the renew/upgrade offers."""

    class OfferSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MembershipOffer"

        tier = serializers.CharField()
        tier_name = serializers.CharField()
        kind = serializers.CharField(help_text="start | renew | upgrade")
        amount_fen = serializers.IntegerField()
        credit_fen = serializers.IntegerField()
        unused_days = serializers.IntegerField()

    class RowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MyMembershipRow"

        id = serializers.IntegerField()
        tier = serializers.CharField()
        tier_name = serializers.CharField()
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        active = serializers.BooleanField()
        days_left = serializers.IntegerField()

    @extend_schema(
        operation_id="membership_mine",
        tags=["membership"],
        responses={
            200: inline_serializer(
                name="MyMembershipOut",
                fields={
                    "membership": RowSerializer(allow_null=True),
                    "member_no": serializers.CharField(allow_null=True),
                    "offers": OfferSerializer(many=True),
                },
            ),
            **error_responses(401),
        },
    )
    def get(self, request):
        membership = selectors.membership_for_user(request.user)
        row = None
        if membership is not None:
            row = self.RowSerializer(
                {
                    "id": membership.pk,
                    "tier": membership.tier.code,
                    "tier_name": membership.tier.name,
                    "starts_at": membership.starts_at,
                    "ends_at": membership.ends_at,
                    "active": membership.starts_at <= timezone.now() < membership.ends_at,
                    "days_left": selectors.days_left(membership),
                }
            ).data
        offers = [
            {
                "tier": offer.tier.code,
                "tier_name": offer.tier.name,
                "kind": offer.kind,
                "amount_fen": offer.amount_fen,
                "credit_fen": offer.credit_fen,
                "unused_days": offer.unused_days,
            }
            for offer in selectors.membership_offers(request.user)
        ]
        return Response(
            {
                "membership": row,
                "member_no": request.user.member_no,
                "offers": self.OfferSerializer(offers, many=True).data,
            }
        )


# ---- onboarding and profile ------------------------------------------------------------------------------------


class ChecklistStepSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingStep"

    key = serializers.CharField()
    title = serializers.CharField()
    done = serializers.BooleanField()
    done_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class StaffSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingStaff"

    name = serializers.CharField()
    role = serializers.CharField()


class GroupSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OnboardingGroup"

    name = serializers.CharField()
    qr_url = serializers.CharField(allow_null=True)
    staff = StaffSerializer(many=True)


class OnboardingApi(APIView):
    """The member's four-layer checklist (404 before the first membership)."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Onboarding"

        stage = serializers.CharField()
        steps = ChecklistStepSerializer(many=True)
        service_group = GroupSerializer(allow_null=True)
        big_group = GroupSerializer(allow_null=True, help_text="QR shown after the self-introduction")
        suggested_nickname = serializers.CharField()

    @extend_schema(
        operation_id="onboarding_retrieve",
        tags=["onboarding"],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request):
        checklist = selectors.onboarding_checklist(request.user)
        if checklist is None:
            raise NotFound(_("开通会员后才有入会引导"))
        return Response(self.OutputSerializer(checklist_payload(request, checklist)).data)


def checklist_payload(request, checklist) -> dict:
    def group(value):
        if value is None:
            return None
        return {
            "name": value["name"],
            "qr_url": request.build_absolute_uri(value["qr_url"]) if value["qr_url"] else None,
            "staff": value["staff"],
        }

    return {
        "stage": checklist["stage"],
        "steps": checklist["steps"],
        "service_group": group(checklist["service_group"]),
        "big_group": group(checklist["big_group"]),
        "suggested_nickname": checklist["suggested_nickname"],
    }


class OnboardingStepConfirmApi(APIView):
    """The member confirms a step done on WeChat: `service_group` or `big_group` (the big group only
    after the self-introduction: `400 intro_required`)."""

    @extend_schema(
        operation_id="onboarding_step_confirm",
        tags=["onboarding"],
        request=None,
        responses={200: OnboardingApi.OutputSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, step: str):
        if step == "service_group":
            services.onboarding_confirm_service_group(user=request.user)
        elif step == "big_group":
            services.onboarding_confirm_big_group(user=request.user)
        else:
            raise NotFound()
        checklist = selectors.onboarding_checklist(request.user)
        return Response(OnboardingApi.OutputSerializer(checklist_payload(request, checklist)).data)


class ProfileApi(APIView):
    """Profile and self-introduction (自我介绍). `use_house_nickname` sets the nickname to 编号-姓名-城市-行业."""

    class ProfileSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MemberProfile"

        real_name = serializers.CharField(max_length=20, allow_blank=True)
        city = serializers.CharField(max_length=20, allow_blank=True)
        industry = serializers.CharField(max_length=20, allow_blank=True)
        company = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
        self_introduction = serializers.CharField(
            max_length=1000, allow_blank=True, required=False, default=""
        )

    class InputSerializer(ProfileSerializer):
        class Meta:
            ref_name = "MemberProfileInput"

        use_house_nickname = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(ProfileSerializer):
        class Meta:
            ref_name = "MemberProfileOutput"

        nickname = serializers.CharField()
        suggested_nickname = serializers.CharField()

    def _output(self, user):
        profile = selectors.profile_for_user(user)
        return self.OutputSerializer(
            {
                "real_name": profile.real_name,
                "city": profile.city,
                "industry": profile.industry,
                "company": profile.company,
                "self_introduction": profile.self_introduction,
                "nickname": user.nickname,
                "suggested_nickname": services.house_nickname(
                    user=user, real_name=profile.real_name, city=profile.city, industry=profile.industry
                ),
            }
        ).data

    @extend_schema(
        operation_id="profile_retrieve",
        tags=["me"],
        responses={200: OutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(self._output(request.user))

    @extend_schema(
        operation_id="profile_update",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401)},
    )
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.profile_update(user=request.user, **data.validated_data)
        return Response(self._output(request.user))


# ---- points and the mall ------------------------------------------------------------------------------------


class PointsEntrySerializer(serializers.Serializer):
    class Meta:
        ref_name = "PointsEntry"

    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PointsPagination(Pagination):
    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["balance"] = self.balance
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["balance"] = {"type": "integer"}
        return schema


class PointsApi(APIView):
    """The caller's points balance and history (newest first)."""

    pagination_class = PointsPagination

    @extend_schema(
        operation_id="points_history",
        tags=["points"],
        responses={200: PointsEntrySerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        paginator = PointsPagination()
        paginator.balance = selectors.points_balance(request.user)
        page = paginator.paginate_queryset(selectors.points_history(request.user), request, view=self)
        return paginator.get_paginated_response(PointsEntrySerializer(page, many=True).data)


class RewardSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Reward"

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    item_type = serializers.CharField()
    item_id = serializers.CharField()
    points_price = serializers.IntegerField()
    stock = serializers.IntegerField(allow_null=True)
    per_member_limit = serializers.IntegerField()
    redeemed_by_me = serializers.IntegerField()


class RewardsApi(APIView):
    """The points mall: rewards on the shelf."""

    @extend_schema(
        operation_id="points_rewards_list",
        tags=["points"],
        responses={200: paginated(RewardSerializer, name="RewardList"), **error_responses(401)},
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.rewards_for_user(request.user), request, view=self)
        return paginator.get_paginated_response(RewardSerializer(page, many=True).data)


class RedeemApi(APIView):
    """Redeem a reward. Send a fresh `idempotency_key` per tap; a repeated key returns the first
    redemption. More points than held → `400 insufficient_points`."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RedeemInput"

        idempotency_key = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Redemption"

        id = serializers.IntegerField()
        reward_id = serializers.IntegerField()
        points = serializers.IntegerField()
        order_no = serializers.CharField(source="order.order_no")
        balance = serializers.IntegerField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="points_redeem",
        tags=["points"],
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, reward_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.points_redeem(
            user=request.user, reward_id=reward_id, idempotency_key=data.validated_data["idempotency_key"]
        )
        redemption.balance = selectors.points_balance(request.user)
        return Response(self.OutputSerializer(redemption).data, status=status.HTTP_201_CREATED)
