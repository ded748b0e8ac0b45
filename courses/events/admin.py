"""Admin of offline events: events with their registrations (more seats or a later close promote the
waitlist), registrations (audited) and the tier event quotas."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import csvsafe
from core.admin_tools import AuditedChangesMixin
from core.errors import ApplicationError
from courses.admin_ownership import OwnMixin
from courses.events import door_checkin, waitlist
from courses.models import (
    Event,
    EventRegistration,
    TierEventQuota,
)


class RegistrationInline(admin.TabularInline):
    model = EventRegistration
    extra = 0
    fields = ("user", "status", "source", "ticket_code", "checked_in_at", "order_no")
    readonly_fields = fields
    can_delete = False
    ordering = ("status", "confirmed_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(OwnMixin, admin.ModelAdmin):
    owner_path = "organizer"
    owner_field = "organizer"
    list_display = (
        "title",
        "starts_at",
        "city",
        "capacity",
        "confirmed",
        "checked_in",
        "waitlisted",
        "price_fen",
        "is_published",
    )
    list_filter = ("is_published", "city", "included_in_tiers")
    search_fields = ("title", "venue")
    filter_horizontal = ("included_in_tiers", "staff")
    raw_id_fields = ("organizer",)
    date_hierarchy = "starts_at"
    inlines = [RegistrationInline]
    actions = ["export_attendance"]
    fieldsets = (
        (None, {"fields": ("title", "summary", "description", "cover", "is_published")}),
        (_("时间地点"), {"fields": ("starts_at", "ends_at", "city", "venue", "address")}),
        (
            _("报名"),
            {
                "fields": (
                    "capacity",
                    "price_fen",
                    "included_in_tiers",
                    "registration_closes_at",
                    "refund_cutoff_hours",
                )
            },
        ),
        (_("人员"), {"fields": ("organizer", "staff")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "capacity" in form.changed_data:
            # More seats: the waitlist moves up now, not at the next cancellation.
            promoted = waitlist.event_waitlist_refill(event_id=obj.pk)
            if promoted:
                self.message_user(
                    request, _("已为候补名单中的 %(n)s 人分配名额") % {"n": promoted}, messages.SUCCESS
                )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                confirmed_n=Count("registrations", filter=Q(registrations__status="confirmed")),
                checked_n=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
                waitlist_n=Count("registrations", filter=Q(registrations__status="waitlisted")),
            )
        )

    @admin.display(description=_("已报名"), ordering="confirmed_n")
    def confirmed(self, obj):
        return obj.confirmed_n

    @admin.display(description=_("已签到"), ordering="checked_n")
    def checked_in(self, obj):
        return obj.checked_n

    @admin.display(description=_("候补"), ordering="waitlist_n")
    def waitlisted(self, obj):
        return obj.waitlist_n

    @admin.action(description=_("导出签到名单（CSV）"), permissions=["view"])
    def export_attendance(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="attendance.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
        writer = csvsafe.writer(response)
        writer.writerow([_("活动"), _("会员"), _("会员编号"), _("状态"), _("来源"), _("票码"), _("签到时间")])
        rows = EventRegistration.objects.filter(event__in=queryset).select_related("event", "user")
        for r in rows.order_by("event__starts_at", "status", "confirmed_at"):
            writer.writerow(
                [
                    r.event.title,
                    r.user.display_name,
                    r.user.member_no or "",
                    r.get_status_display(),
                    r.get_source_display() if r.source else "",
                    r.ticket_code or "",
                    timezone.localtime(r.checked_in_at).strftime("%Y-%m-%d %H:%M") if r.checked_in_at else "",
                ]
            )
        return response


@admin.register(EventRegistration)
class EventRegistrationAdmin(AuditedChangesMixin, OwnMixin, admin.ModelAdmin):
    owner_path = "event__organizer"
    list_display = (
        "event",
        "user",
        "status",
        "source",
        "ticket_code",
        "checked_in_at",
        "hold_expires_at",
        "order_no",
    )
    list_filter = ("status", "source", "event")
    search_fields = ("ticket_code", "order_no", "user__username", "user__nickname", "user__member_no")
    list_select_related = ("event", "user")
    date_hierarchy = "created_at"
    raw_id_fields = ("event", "user", "checked_in_by")
    readonly_fields = (
        "order_no",
        "ticket_code",
        "checked_in_at",
        "checked_in_by",
        "confirmed_at",
        "cancelled_at",
    )
    actions = ["check_in"]

    @admin.action(description=_("核销所选门票"), permissions=["change"])
    def check_in(self, request, queryset):
        done = 0
        for registration in queryset.select_related("event"):
            try:
                door_checkin.event_check_in(
                    event=registration.event, code=registration.ticket_code or "", staff=request.user
                )
                done += 1
            except ApplicationError as exc:
                messages.warning(request, f"{registration.user}: {exc.message}")
        if done:
            messages.success(request, _("已核销 %(n)s 张") % {"n": done})


@admin.register(TierEventQuota)
class TierEventQuotaAdmin(AuditedChangesMixin, admin.ModelAdmin):
    """A membership benefit (free events per year): edits are audited."""

    list_display = ("tier", "events_per_year")
