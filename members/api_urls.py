"""/api/v1 URLs of the members app."""

from django.urls import path

from members import apis

urlpatterns = [
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
