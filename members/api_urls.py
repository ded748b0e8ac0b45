"""/api/v1 URLs of the members app (API.md rows 1–3 are fixed)."""

from django.urls import path

from members import apis

urlpatterns = [
    path("auth/wechat/miniprogram/", apis.MiniProgramLoginApi.as_view(), name="api-auth-miniprogram"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="api-auth-logout"),
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("me/phone/", apis.PhoneBindApi.as_view(), name="api-me-phone"),
    path("me/profile/", apis.ProfileApi.as_view(), name="api-me-profile"),
    path("membership/tiers/", apis.TiersApi.as_view(), name="api-membership-tiers"),
    path("membership/quote/", apis.MembershipQuoteApi.as_view(), name="api-membership-quote"),
    path("membership/mine/", apis.MyMembershipApi.as_view(), name="api-membership-mine"),
    path(
        "memberships/<int:membership_id>/", apis.MembershipDetailApi.as_view(), name="api-membership-detail"
    ),
    path("onboarding/", apis.OnboardingApi.as_view(), name="api-onboarding"),
    path(
        "onboarding/steps/<str:step>/confirm/",
        apis.OnboardingStepConfirmApi.as_view(),
        name="api-onboarding-step-confirm",
    ),
    path("points/", apis.PointsApi.as_view(), name="api-points"),
    path("points/rewards/", apis.RewardsApi.as_view(), name="api-points-rewards"),
    path("points/rewards/<int:reward_id>/redeem/", apis.RedeemApi.as_view(), name="api-points-redeem"),
    path("notifications/", apis.NotificationsApi.as_view(), name="api-notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        apis.NotificationReadApi.as_view(),
        name="api-notification-read",
    ),
    path(
        "notifications/read-all/", apis.NotificationsReadAllApi.as_view(), name="api-notifications-read-all"
    ),
    path("notifications/opt-ins/", apis.SubscribeOptInsApi.as_view(), name="api-notification-opt-ins"),
]
