"""Who sees what in the courses admin: teachers are limited to the courses, events and camps they
teach (and, as 助教, the camps they review); superusers and operators see everything."""

from __future__ import annotations

from django.db.models import Q

from core.roles import OPERATOR, has_role
from courses.models import Camp


def teacher_only(request) -> bool:
    """Everyone but superusers and operators is limited to what they teach."""
    return not (request.user.is_superuser or has_role(request.user, OPERATOR))


class OwnMixin:
    """Limit rows to the teacher's own (`owner_path` is the lookup to the teacher; `reviewer_path`, when
    set, also admits the camps the user reviews as 助教)."""

    owner_path = "teacher"
    reviewer_path = ""
    owner_field = ""  # the field naming the owner on this model: fixed to the teacher for teachers

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if teacher_only(request):
            own = Q(**{self.owner_path: request.user})
            if self.reviewer_path:
                camps = Camp.objects.filter(reviewers=request.user).values("pk")
                own |= Q(**{f"{self.reviewer_path}__in": camps})
            qs = qs.filter(own)
        return qs

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.owner_field and teacher_only(request):
            fields += (self.owner_field,)
        return fields

    def save_model(self, request, obj, form, change):
        if self.owner_field and not change and teacher_only(request):
            setattr(obj, self.owner_field, request.user)
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "camp" and teacher_only(request):
            kwargs["queryset"] = Camp.objects.filter(teacher=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
