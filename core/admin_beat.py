"""django-celery-beat's PeriodicTask admin, re-registered so that a periodic task cannot be a back door
to money (`core.money_tasks`, the list in `settings.MONEY_TASKS`).

- Superusers: everything, as before; "run selected tasks" on a money task passes their id as
  `operator_id` to tasks that record an operator, and each manual money run leaves an audit row.
- Other staff (运营 has the model permissions): no add and no delete at all (a task name and its
  arguments are code paths, not settings); on non-money tasks they may switch `enabled` and pick the
  schedule, nothing else; money tasks they can only look at. Running tasks by hand is superusers' only.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from core.audit import audit_record
from core.money_tasks import is_money_task, records_operator

# What a non-superuser may change on a non-money periodic task.
SCHEDULE_FIELDS = ("enabled", "interval", "crontab", "solar", "clocked", "start_time", "one_off")


class ScheduleOnlyForm(forms.ModelForm):
    """The change form for staff who may only pick the schedule (no task name, no arguments)."""

    class Meta:
        model = PeriodicTask
        fields = SCHEDULE_FIELDS


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):  # type: ignore[misc]  # django-celery-beat ships no type hints
    actions = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")

    # ---- permissions ------------------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: PeriodicTask | None = None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: PeriodicTask | None = None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is not None and is_money_task(obj.task):
            return False
        return bool(super().has_change_permission(request, obj))

    def has_run_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    # ---- the change form for non-superusers -------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: PeriodicTask | None = None) -> Any:
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return (
            (None, {"fields": ("name", "task", "enabled", "description")}),
            (_("计划"), {"fields": ("interval", "crontab", "solar", "clocked", "start_time", "one_off")}),
            (_("参数"), {"fields": ("args", "kwargs", "queue", "expires", "expire_seconds")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: PeriodicTask | None = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        shown = [name for _title, box in self.get_fieldsets(request, obj) for name in box["fields"]]
        return [name for name in shown if name not in SCHEDULE_FIELDS] + ["last_run_at"]

    def get_form(self, request: HttpRequest, obj: PeriodicTask | None = None, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            kwargs["form"] = ScheduleOnlyForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request: HttpRequest, obj: PeriodicTask, form: Any, change: bool) -> None:
        """A superuser's edit of a money task is a money decision: audit it (who, which fields)."""
        super().save_model(request, obj, form, change)
        if is_money_task(obj.task) or (change and "task" in form.changed_data):
            audit_record(
                actor=request.user,
                action="periodic_task_change" if change else "periodic_task_add",
                target=obj,
                summary=f"{obj.name}: {obj.task}"[:120],
                fields=list(form.changed_data),
                args=obj.args,
                kwargs=obj.kwargs,
            )

    def delete_model(self, request: HttpRequest, obj: PeriodicTask) -> None:
        if is_money_task(obj.task):
            audit_record(
                actor=request.user,
                action="periodic_task_delete",
                target=obj,
                summary=f"{obj.name}: {obj.task}",
            )
        super().delete_model(request, obj)

    # ---- actions ----------------------------------------------------------------------------------

    def _refuse_money_rows(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> bool:
        """Non-superusers act on non-money tasks only: a selection with a money task changes nothing."""
        if request.user.is_superuser:
            return False
        names = sorted(t.name for t in queryset if is_money_task(t.task))
        if names:
            self.message_user(
                request,
                _("涉及资金的定时任务只有超级管理员可以修改：%(names)s") % {"names": "、".join(names)},
                messages.ERROR,
            )
            return True
        return False

    @admin.action(description=_("启用所选任务"), permissions=["change"])
    def enable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        if not self._refuse_money_rows(request, queryset):
            super().enable_tasks(request, queryset)

    @admin.action(description=_("停用所选任务"), permissions=["change"])
    def disable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        if not self._refuse_money_rows(request, queryset):
            super().disable_tasks(request, queryset)

    @admin.action(description=_("切换所选任务的启用状态"), permissions=["change"])
    def toggle_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        if not self._refuse_money_rows(request, queryset):
            super().toggle_tasks(request, queryset)

    @admin.action(description=_("立即运行所选任务"), permissions=["run"])
    def run_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        if not self.has_run_permission(request):
            raise PermissionDenied
        self.celery_app.loader.import_default_modules()
        rows = list(queryset)
        missing = [row.task for row in rows if self.celery_app.tasks.get(row.task) is None]
        if missing:
            self.message_user(request, _("找不到任务：%(task)s") % {"task": missing[0]}, messages.ERROR)
            return
        for row in rows:
            task = self.celery_app.tasks[row.task]
            args, kwargs = json.loads(row.args or "[]"), json.loads(row.kwargs or "{}")
            if is_money_task(row.task):
                if records_operator(task):
                    kwargs["operator_id"] = request.user.pk
                audit_record(
                    actor=request.user,
                    action="periodic_task_run",
                    target=row,
                    summary=f"{row.name}: {row.task}"[:120],
                    task=row.task,
                    args=args,
                    kwargs=kwargs,
                )
            options = {"queue": row.queue} if row.queue else {}
            task.apply_async(args=args, kwargs=kwargs, headers={"periodic_task_name": row.name}, **options)
        self.message_user(
            request,
            ngettext("已提交 %(n)s 个任务", "已提交 %(n)s 个任务", len(rows)) % {"n": len(rows)},
            messages.SUCCESS,
        )


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
