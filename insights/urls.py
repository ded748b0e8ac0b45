"""Page URLs of the insights app (mounted at /ops/)."""

from django.urls import path

from insights import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/orders.csv", views.export_orders, name="export_orders"),
    path("export/members.csv", views.export_members, name="export_members"),
    path("export/commissions.csv", views.export_commissions, name="export_commissions"),
    path("export/withdrawals.csv", views.export_withdrawals, name="export_withdrawals"),
    path("export/table/<slug:key>.csv", views.export_table, name="export_table"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
]
