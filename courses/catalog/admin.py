"""Admin of the catalog: courses with their lessons, enrolments (audited) and lesson progress (read only)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin
from courses.admin_ownership import OwnMixin
from courses.models import (
    Course,
    CourseEnrolment,
    Lesson,
    LessonProgress,
)


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # media must be https (CSP)
    fields = (
        ("position", "title", "kind", "is_preview", "is_published"),
        ("media_url", "media_asset", "duration_seconds"),
        ("release_after_days", "release_at"),
        "body",
    )
    autocomplete_fields = ("media_asset",)
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
        (_("完课规则与结业证书"), {"fields": ("complete_at_percent", "require_quizzes", "require_homework")}),
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
    list_display = (
        "user",
        "course",
        "lesson",
        "position_seconds",
        "watched_seconds",
        "completed",
        "completed_at",
        "updated_at",
    )
    exclude = ("watched", "playback_session")  # a bitmap and a session nonce: nothing to read
    list_filter = ("completed", "course")
    search_fields = ("user__username", "user__nickname", "user__member_no", "lesson__title")
    list_select_related = ("user", "course", "lesson")
    date_hierarchy = "updated_at"
