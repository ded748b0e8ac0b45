"""/api/v1 URLs of the members app (API.md rows 1–3 are fixed)."""

from django.urls import path

from members.auth import apis as auth_apis
from members.memberships import apis as membership_apis
from members.notifications import apis as notification_apis
from members.onboarding import apis as onboarding_apis
from members.points import apis as points_apis
from members.profile import apis as profile_apis

urlpatterns = [
    path("auth/wechat/miniprogram/", auth_apis.MiniProgramLoginApi.as_view(), name="api-auth-miniprogram"),
    path("auth/token/refresh/", auth_apis.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/logout/", auth_apis.LogoutApi.as_view(), name="api-auth-logout"),
    path("me/", profile_apis.MeApi.as_view(), name="api-me"),
    path("me/phone/", auth_apis.PhoneBindApi.as_view(), name="api-me-phone"),
    path("me/profile/", profile_apis.ProfileApi.as_view(), name="api-me-profile"),
    path("membership/tiers/", membership_apis.TiersApi.as_view(), name="api-membership-tiers"),
    path("membership/quote/", membership_apis.MembershipQuoteApi.as_view(), name="api-membership-quote"),
    path("membership/mine/", membership_apis.MyMembershipApi.as_view(), name="api-membership-mine"),
    path(
        "memberships/<int:membership_id>/",
        membership_apis.MembershipDetailApi.as_view(),
        name="api-membership-detail",
    ),
    path("onboarding/", onboarding_apis.OnboardingApi.as_view(), name="api-onboarding"),
    path(
        "onboarding/steps/<str:step>/confirm/",
        onboarding_apis.OnboardingStepConfirmApi.as_view(),
        name="api-onboarding-step-confirm",
    ),
    path("points/", points_apis.PointsApi.as_view(), name="api-points"),
    path("points/rewards/", points_apis.RewardsApi.as_view(), name="api-points-rewards"),
    path("points/rewards/<int:reward_id>/redeem/", points_apis.RedeemApi.as_view(), name="api-points-redeem"),
    path("notifications/", notification_apis.NotificationsApi.as_view(), name="api-notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_apis.NotificationReadApi.as_view(),
        name="api-notification-read",
    ),
    path(
        "notifications/read-all/",
        notification_apis.NotificationsReadAllApi.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/opt-ins/",
        notification_apis.SubscribeOptInsApi.as_view(),
        name="api-notification-opt-ins",
    ),
]
