"""Page URLs of the referrals app (the share route `/r/<code>/` is mounted at the root: config/urls.py)."""

from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.center, name="center"),
    path("invited/", views.invited, name="invited"),
    path("commissions/", views.commissions, name="commissions"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("agreement/", views.agreement, name="agreement"),
    path("poster.png", views.poster, name="poster"),
    path("staff-share/", views.staff_share, name="staff_share"),
    path("group-buys/", views.group_buy_list, name="group_buys"),
    path("group-buys/offers/<int:offer_id>/", views.group_buy_offer, name="group_buy_offer"),
    path("group-buys/offers/<int:offer_id>/open/", views.group_buy_open, name="group_buy_open"),
    path("group-buys/<int:group_id>/", views.group_buy_detail, name="group_buy"),
    path("group-buys/<int:group_id>/join/", views.group_buy_join, name="group_buy_join"),
    path("ops/compliance/", views.compliance_report, name="compliance"),
    path("ops/compliance.csv", views.compliance_csv, name="compliance_csv"),
]
