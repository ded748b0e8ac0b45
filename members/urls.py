"""Page URLs of the members app (the site's home lives here: it sells memberships)."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("membership/", views.tiers, name="tiers"),
    path("membership/<str:code>/", views.tier_detail, name="tier_detail"),
    path("account/", views.account, name="account"),
    path("account/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("account/onboarding/", views.onboarding, name="onboarding"),
    path("account/onboarding/<str:step>/confirm/", views.onboarding_confirm, name="onboarding_confirm"),
    path("account/profile/", views.profile, name="profile"),
    path("account/points/", views.points, name="points"),
    path("points/mall/", views.mall, name="mall"),
    path("points/mall/<int:reward_id>/redeem/", views.mall_redeem, name="mall_redeem"),
    path("account/notifications/", views.notifications, name="notifications"),
    path(
        "account/notifications/<int:notification_id>/open/",
        views.notification_open,
        name="notification_open",
    ),
    path("account/notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
