"""Admin of insights: the stored operations reports, read-only (they are rebuilt by their tasks)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from insights.models import OperationsReport


@admin.register(OperationsReport)
class OperationsReportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "period_start", "period_end", "emailed_at", "page_link"]
    list_filter = ["kind", ("period_start", admin.DateFieldListFilter)]
    date_hierarchy = "period_start"
    readonly_fields = [
        "kind",
        "period_start",
        "period_end",
        "headline",
        "tables",
        "recipients",
        "emailed_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("报告页面"))
    def page_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("insights:report", args=[obj.pk]), _("查看"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
