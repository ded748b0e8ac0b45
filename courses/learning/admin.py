"""Admin of learning: authoring quizzes (questions inline on the quiz, options inline on each question,
checked so every question has its right answers), homework, reviewing homework submissions (the
actions call `courses.learning.homework.homework_review`), and the graded attempts and course
completions (read only: they are facts). Teachers see their own courses' rows only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin
from core.errors import ApplicationError
from courses.admin_ownership import OwnMixin, teacher_only
from courses.learning import homework
from courses.models import (
    CourseCompletion,
    Homework,
    HomeworkSubmission,
    Lesson,
    Quiz,
    QuizAttempt,
    QuizOption,
    QuizQuestion,
)


class _OwnLessonMixin(OwnMixin):
    """Lessons to pick from: a teacher's own courses' only."""

    owner_path = "lesson__course__teacher"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lesson":
            lessons = Lesson.objects.select_related("course").order_by("course", "position")
            if teacher_only(request):
                lessons = lessons.filter(course__teacher=request.user)
            kwargs["queryset"] = lessons
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class QuizQuestionInline(admin.StackedInline):
    model = QuizQuestion
    extra = 0
    fields = (("position", "kind"), "text", "options_link")
    readonly_fields = ("options_link",)
    ordering = ("position", "id")

    @admin.display(description=_("选项"))
    def options_link(self, obj):
        if not obj.pk:
            return _("保存后编辑选项")
        summary = " / ".join(f"{'✓' if o.is_correct else '·'} {o.text}" for o in obj.options.all()) or "-"
        url = reverse("admin:courses_quizquestion_change", args=[obj.pk])
        return format_html('{} <a href="{}">{}</a>', summary, url, _("编辑选项"))


@admin.register(Quiz)
class QuizAdmin(_OwnLessonMixin, admin.ModelAdmin):
    list_display = ("__str__", "lesson", "pass_percent", "max_attempts", "question_total", "is_published")
    list_filter = ("is_published", "lesson__course")
    search_fields = ("title", "lesson__title", "lesson__course__title")
    list_select_related = ("lesson__course",)
    fields = ("lesson", "title", "pass_percent", "max_attempts", "is_published")
    inlines = [QuizQuestionInline]

    @admin.display(description=_("题目数"))
    def question_total(self, obj):
        return obj.questions.count()


class QuizOptionFormSet(forms.BaseInlineFormSet):
    """A question keeps its right answers: one for a single choice, at least one for a multiple choice."""

    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        correct = sum(1 for data in kept if data.get("is_correct"))
        kind = self.instance.kind
        if len(kept) < 2:
            raise forms.ValidationError(_("每道题至少需要两个选项"))
        if kind == QuizQuestion.Kind.SINGLE and correct != 1:
            raise forms.ValidationError(_("单选题必须恰好有一个正确答案"))
        if kind == QuizQuestion.Kind.MULTIPLE and correct < 1:
            raise forms.ValidationError(_("多选题至少需要一个正确答案"))


class QuizOptionInline(admin.TabularInline):
    model = QuizOption
    formset = QuizOptionFormSet
    extra = 2
    fields = ("position", "text", "is_correct")
    ordering = ("position", "id")


@admin.register(QuizQuestion)
class QuizQuestionAdmin(OwnMixin, admin.ModelAdmin):
    owner_path = "quiz__lesson__course__teacher"
    list_display = ("__str__", "quiz", "kind", "position")
    list_filter = ("kind",)
    search_fields = ("text", "quiz__lesson__title")
    list_select_related = ("quiz__lesson",)
    fields = ("quiz", "position", "kind", "text")
    inlines = [QuizOptionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "quiz" and teacher_only(request):
            kwargs["queryset"] = Quiz.objects.filter(lesson__course__teacher=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Homework)
class HomeworkAdmin(_OwnLessonMixin, admin.ModelAdmin):
    list_display = ("__str__", "lesson", "max_images", "requires_image", "is_published")
    list_filter = ("is_published", "lesson__course")
    search_fields = ("prompt", "lesson__title", "lesson__course__title")
    list_select_related = ("lesson__course",)
    fields = ("lesson", "prompt", "max_images", "requires_image", "is_published")


@admin.register(HomeworkSubmission)
class HomeworkSubmissionAdmin(OwnMixin, admin.ModelAdmin):
    """Submissions are the member's: nothing is edited by hand; the change permission unlocks the
    review actions (an approval may complete the course and issue its certificate)."""

    owner_path = "course__teacher"
    list_display = (
        "user",
        "course",
        "homework",
        "status",
        "excerpt",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
    )
    list_filter = ("status", "course")
    search_fields = ("user__username", "user__nickname", "user__member_no", "text")
    list_select_related = ("user", "course", "homework__lesson", "reviewed_by")
    date_hierarchy = "submitted_at"
    fields = (
        "homework",
        "course",
        "user",
        "text",
        "images",
        "status",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
        "queue_link",
    )
    readonly_fields = fields
    actions = ["approve"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("内容"))
    def excerpt(self, obj):
        return obj.text[:40]

    @admin.display(description=_("批改"))
    def queue_link(self, obj):
        if obj.status == HomeworkSubmission.Status.SUBMITTED:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("courses:homework_review_queue"),
                _("去批改队列（可写评语、退回修改）"),
            )
        return "-"

    @admin.action(description=_("批改通过"), permissions=["change"])
    def approve(self, request, queryset):
        done = 0
        for submission in queryset.filter(status=HomeworkSubmission.Status.SUBMITTED).select_related(
            "course"
        ):
            try:
                homework.homework_review(submission=submission, reviewer=request.user, approve=True)
                done += 1
            except ApplicationError as exc:
                messages.warning(request, exc.message)
        messages.success(request, _("已通过 %(n)s 份作业") % {"n": done})


@admin.register(QuizAttempt)
class QuizAttemptAdmin(OwnMixin, FactRecordAdminMixin, admin.ModelAdmin):
    owner_path = "quiz__lesson__course__teacher"
    list_display = ("user", "quiz", "number", "score_percent", "passed", "created_at")
    list_filter = ("passed",)
    search_fields = ("user__username", "user__nickname", "user__member_no", "quiz__lesson__title")
    list_select_related = ("user", "quiz__lesson")
    date_hierarchy = "created_at"


@admin.register(CourseCompletion)
class CourseCompletionAdmin(OwnMixin, FactRecordAdminMixin, admin.ModelAdmin):
    """结业记录: who met a course's rule and when; the certificate number."""

    owner_path = "course__teacher"
    list_display = ("user", "course", "completed_at", "certificate_no")
    list_filter = ("course",)
    search_fields = ("user__username", "user__nickname", "user__member_no", "certificate_no")
    list_select_related = ("user", "course")
    date_hierarchy = "completed_at"
