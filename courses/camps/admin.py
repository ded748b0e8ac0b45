"""Admin of camps: camps with their daily tasks and terms, seats (audited), check-ins with the review
and moderation actions, the moderation queue (内容安全) and the reminder log (read only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin
from core.errors import ApplicationError
from courses.admin_ownership import OwnMixin
from courses.camps import reviews
from courses.models import (
    Camp,
    CampTask,
    CheckIn,
    CheckInModeration,
    CheckinReminder,
    Term,
    TermSeat,
)


class CampTaskInline(admin.TabularInline):
    model = CampTask
    extra = 0
    fields = ("day", "title", "body", "requires_image")
    ordering = ("day",)


class TermInline(admin.TabularInline):
    model = Term
    extra = 0
    fields = ("name", "start_date", "days", "end_date", "capacity", "is_published")
    readonly_fields = ("end_date",)
    show_change_link = True


@admin.register(Camp)
class CampAdmin(OwnMixin, admin.ModelAdmin):
    owner_field = "teacher"
    list_display = ("title", "teacher", "days", "reminder_time", "price_fen", "tiers", "is_published")
    list_filter = ("is_published", "included_in_tiers")
    search_fields = ("title",)
    filter_horizontal = ("included_in_tiers", "reviewers")
    raw_id_fields = ("teacher",)
    inlines = [TermInline, CampTaskInline]
    fieldsets = (
        (
            None,
            {"fields": ("title", "summary", "description", "cover", "teacher", "reviewers", "is_published")},
        ),
        (_("报名与会员权益"), {"fields": ("price_fen", "included_in_tiers")}),
        (
            _("打卡规则"),
            {
                "fields": (
                    "days",
                    "reminder_time",
                    "subscribe_template",
                    "makeup_days",
                    "makeup_limit",
                    "certificate_days",
                )
            },
        ),
        (_("积分"), {"fields": ("points_per_checkin", "points_per_makeup", "points_per_review")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("included_in_tiers")

    @admin.display(description=_("会员等级"))
    def tiers(self, obj):
        return ", ".join(t.code for t in obj.included_in_tiers.all()) or "-"


@admin.register(Term)
class TermAdmin(OwnMixin, admin.ModelAdmin):
    owner_path = "camp__teacher"
    list_display = (
        "__str__",
        "start_date",
        "end_date",
        "days",
        "capacity",
        "members",
        "completed",
        "is_published",
    )
    list_filter = ("is_published", "camp")
    search_fields = ("name", "camp__title")
    readonly_fields = ("end_date",)
    date_hierarchy = "start_date"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("camp")
            .annotate(
                member_n=Count("seats", filter=Q(seats__status="active"), distinct=True),
                completed_n=Count("seats", filter=Q(seats__completed_at__isnull=False), distinct=True),
            )
        )

    @admin.display(description=_("学员"), ordering="member_n")
    def members(self, obj):
        return obj.member_n

    @admin.display(description=_("已结营"), ordering="completed_n")
    def completed(self, obj):
        return obj.completed_n


@admin.register(TermSeat)
class TermSeatAdmin(AuditedChangesMixin, OwnMixin, admin.ModelAdmin):
    owner_path = "term__camp__teacher"
    list_display = (
        "user",
        "term",
        "source",
        "status",
        "points",
        "checkin_days",
        "best_streak",
        "makeups_used",
        "certificate_no",
    )
    list_filter = ("status", "source", "term__camp")
    search_fields = ("user__username", "user__nickname", "user__member_no", "certificate_no", "order_no")
    list_select_related = ("user", "term__camp")
    date_hierarchy = "created_at"
    raw_id_fields = ("term", "user")
    readonly_fields = (
        "order_no",
        "points",
        "checkin_days",
        "streak",
        "streak_last_day",
        "best_streak",
        "makeups_used",
        "completed_at",
        "certificate_no",
        "revoked_at",
    )


class _CheckInBase(OwnMixin, admin.ModelAdmin):
    """Check-ins are facts: nothing is edited by hand; the change permission only unlocks the
    moderation actions (which call `courses.camps.reviews.checkin_moderate`)."""

    owner_path = "term__camp__teacher"
    reviewer_path = "term__camp"
    list_display = (
        "user",
        "term",
        "task",
        "day",
        "status",
        "is_makeup",
        "excerpt",
        "created_at",
        "reviewed_at",
        "review_score",
    )
    search_fields = ("user__username", "user__nickname", "user__member_no", "text")
    fields = (
        "seat",
        "term",
        "user",
        "task",
        "day",
        "text",
        "images",
        "status",
        "is_makeup",
        "points_awarded",
        "moderation_note",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
        "review_score",
        "review_points",
        "review_link",
    )
    readonly_fields = fields
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("点评"))
    def review_link(self, obj):
        if obj.status == CheckIn.Status.VISIBLE and obj.reviewed_at is None:
            return format_html('<a href="{}">{}</a>', reverse("courses:review_queue"), _("去点评队列点评"))
        return "-"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "term", "task")

    @admin.display(description=_("内容"))
    def excerpt(self, obj):
        return obj.text[:40]

    def _moderate(self, request, queryset, approve: bool):
        done = 0
        for checkin in queryset.filter(status=CheckIn.Status.REVIEW):
            try:
                reviews.checkin_moderate(checkin=checkin, actor=request.user, approve=approve)
                done += 1
            except ApplicationError as exc:
                messages.warning(request, exc.message)
        messages.success(request, _("已处理 %(n)s 条") % {"n": done})

    @admin.action(description=_("审核通过（计入打卡）"), permissions=["change"])
    def approve(self, request, queryset):
        self._moderate(request, queryset, True)

    @admin.action(description=_("驳回（通知学员修改）"), permissions=["change"])
    def reject(self, request, queryset):
        self._moderate(request, queryset, False)


@admin.register(CheckIn)
class CheckInAdmin(_CheckInBase):
    list_filter = ("status", "is_makeup", ("reviewed_at", admin.EmptyFieldListFilter), "term__camp")
    date_hierarchy = "created_at"


@admin.register(CheckInModeration)
class CheckInModerationAdmin(_CheckInBase):
    """The moderation queue: check-ins the content check held, oldest first."""

    list_filter = ("term__camp",)
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=CheckIn.Status.REVIEW)


@admin.register(CheckinReminder)
class CheckinReminderAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("user", "term", "day", "channel", "created_at", "sent_at")
    list_filter = ("channel", ("day", admin.DateFieldListFilter))
    search_fields = ("user__username", "user__nickname", "user__member_no")
    list_select_related = ("user", "term")
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "term", "seat")
