"""Page URLs of the members app (the site's home lives here: it sells memberships)."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
]
