"""Page URLs of the members app (the site's home lives here: it sells memberships)."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("account/notifications/", views.notifications, name="notifications"),
    path(
        "account/notifications/<int:notification_id>/open/",
        views.notification_open,
        name="notification_open",
    ),
    path("account/notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
