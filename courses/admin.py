"""Operator and teacher screens: courses with lessons, tier inclusion, events with attendance, camps /
terms / tasks, check-ins and reviews, the moderation queue. Teachers (core.roles.TEACHER) see only their
own courses, camps and the events they organise (and the check-ins of camps they review as 助教); a
teacher cannot hand a course, camp or event to someone else, nor pick another teacher's camp for a term.
Check-ins are facts: moderation (approve/reject) and ticket check-in are actions that call services,
and each action declares the permission it needs (`allowed_permissions`), so view-only staff do not see
it. Reviews (点评) are written on the review queue page (`courses:review_queue`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import csvsafe
from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin
from core.errors import ApplicationError
from courses import services
from courses.models import (
    Camp,
    CampTask,
    CheckIn,
    CheckInModeration,
    CheckinReminder,
    Course,
    CourseEnrolment,
    Event,
    EventRegistration,
    Lesson,
    LessonProgress,
    Term,
    TermSeat,
    TierEventQuota,
)


def _teacher_only(request) -> bool:
    """Everyone but superusers and operators is limited to what they teach."""
    from core.roles import OPERATOR, has_role

    return not (request.user.is_superuser or has_role(request.user, OPERATOR))


class OwnMixin:
    """Limit rows to the teacher's own (`owner_path` is the lookup to the teacher; `reviewer_path`, when
    set, also admits the camps the user reviews as 助教)."""

    owner_path = "teacher"
    reviewer_path = ""
    owner_field = ""  # the field naming the owner on this model: fixed to the teacher for teachers

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if _teacher_only(request):
            own = Q(**{self.owner_path: request.user})
            if self.reviewer_path:
                camps = Camp.objects.filter(reviewers=request.user).values("pk")
                own |= Q(**{f"{self.reviewer_path}__in": camps})
            qs = qs.filter(own)
        return qs

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.owner_field and _teacher_only(request):
            fields += (self.owner_field,)
        return fields

    def save_model(self, request, obj, form, change):
        if self.owner_field and not change and _teacher_only(request):
            setattr(obj, self.owner_field, request.user)
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "camp" and _teacher_only(request):
            kwargs["queryset"] = Camp.objects.filter(teacher=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# ---- courses -------------------------------------------------------------------------------------------------


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # media must be https (CSP)
    fields = (
        ("position", "title", "kind", "is_preview", "is_published"),
        ("media_url", "duration_seconds"),
        "body",
    )
    ordering = ("position", "id")


@admin.register(Course)
class CourseAdmin(OwnMixin, admin.ModelAdmin):
    owner_field = "teacher"
    list_display = (
        "title",
        "teacher",
        "price_fen",
        "tiers",
        "lesson_total",
        "learners",
        "is_published",
        "sort_order",
    )
    list_filter = ("is_published", "included_in_tiers")
    search_fields = ("title", "teacher__nickname")
    filter_horizontal = ("included_in_tiers",)
    raw_id_fields = ("teacher",)
    inlines = [LessonInline]
    fieldsets = (
        (
            None,
            {"fields": ("title", "summary", "description", "cover", "teacher", "is_published", "sort_order")},
        ),
        (_("售卖与会员权益"), {"fields": ("price_fen", "included_in_tiers")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("included_in_tiers")
            .annotate(
                lesson_n=Count("lessons", distinct=True),
                learner_n=Count("enrolments", filter=Q(enrolments__status="active"), distinct=True),
            )
        )

    @admin.display(description=_("会员等级"))
    def tiers(self, obj):
        return ", ".join(t.code for t in obj.included_in_tiers.all()) or "-"

    @admin.display(description=_("课时"), ordering="lesson_n")
    def lesson_total(self, obj):
        return obj.lesson_n

    @admin.display(description=_("购买/兑换学员"), ordering="learner_n")
    def learners(self, obj):
        return obj.learner_n


# Enrolments, tickets and seats added or edited by hand are access grants outside the order path:
# each one is in the audit log.


@admin.register(CourseEnrolment)
class CourseEnrolmentAdmin(AuditedChangesMixin, OwnMixin, admin.ModelAdmin):
    owner_path = "course__teacher"
    list_display = ("course", "user", "source", "status", "order_no", "created_at", "revoked_at")
    list_filter = ("status", "source", "course")
    search_fields = ("order_no", "user__username", "user__nickname", "user__member_no", "course__title")
    list_select_related = ("course", "user")
    raw_id_fields = ("course", "user")
    readonly_fields = ("order_no", "revoked_at")
    date_hierarchy = "created_at"


@admin.register(LessonProgress)
class LessonProgressAdmin(OwnMixin, FactRecordAdminMixin, admin.ModelAdmin):
    """Learning records (学习记录): who studied which lesson, how far, when they finished."""

    owner_path = "course__teacher"
    list_display = ("user", "course", "lesson", "position_seconds", "completed", "completed_at", "updated_at")
    list_filter = ("completed", "course")
    search_fields = ("user__username", "user__nickname", "user__member_no", "lesson__title")
    list_select_related = ("user", "course", "lesson")
    date_hierarchy = "updated_at"


# ---- events --------------------------------------------------------------------------------------------------


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
            promoted = services.event_waitlist_refill(event_id=obj.pk)
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
                services.event_check_in(
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


# ---- camps ---------------------------------------------------------------------------------------------------


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
    moderation actions (which call `courses.services.checkin_moderate`)."""

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
                services.checkin_moderate(checkin=checkin, actor=request.user, approve=approve)
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
