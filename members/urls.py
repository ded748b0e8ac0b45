"""Page URLs of the members app (the site's home lives here: it sells memberships)."""

from django.urls import path

from members import views
from members.auth import views as auth_views
from members.memberships import views as membership_views
from members.notifications import views as notification_views
from members.onboarding import views as onboarding_views
from members.points import views as points_views
from members.profile import views as profile_views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("membership/", membership_views.tiers, name="tiers"),
    path("membership/<str:code>/", membership_views.tier_detail, name="tier_detail"),
    path("account/", views.account, name="account"),
    path("account/logout-everywhere/", auth_views.logout_everywhere, name="logout_everywhere"),
    path("account/onboarding/", onboarding_views.onboarding, name="onboarding"),
    path(
        "account/onboarding/<str:step>/confirm/",
        onboarding_views.onboarding_confirm,
        name="onboarding_confirm",
    ),
    path("account/profile/", profile_views.profile, name="profile"),
    path("account/points/", points_views.points, name="points"),
    path("points/mall/", points_views.mall, name="mall"),
    path("points/mall/<int:reward_id>/redeem/", points_views.mall_redeem, name="mall_redeem"),
    path("account/notifications/", notification_views.notifications, name="notifications"),
    path(
        "account/notifications/<int:notification_id>/open/",
        notification_views.notification_open,
        name="notification_open",
    ),
    path(
        "account/notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications_read_all",
    ),
]
