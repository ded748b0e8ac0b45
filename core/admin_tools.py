"""Building blocks shared by every app's admin: read-only fact records, audited configuration changes,
masked identifiers and links between admin pages.

- `FactRecordAdminMixin`: money records and other facts (orders, payments, ledger rows, notifications…)
  are never added, changed or deleted by hand; operators change them through actions that call services.
- `AuditedChangesMixin`: a hand edit of a setting that moves money or memberships (prices, rates,
  thresholds) leaves an `AuditLog` row naming who changed which fields from what to what.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.money import fen_to_yuan_text
from core.roles import is_money_operator

if TYPE_CHECKING:  # django-stubs' alias for str or a lazy translation (a development-only package)
    from django_stubs_ext import StrOrPromise


class FactRecordAdminMixin:
    """No add, change or delete: the admin shows the record (view permission) and nothing else."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MoneyActionsMixin:
    """`permissions=["money"]` on an admin action (and `has_money_permission` for buttons and pages):
    the money rule, `core.roles.is_money_operator` (财务 and superusers)."""

    def has_money_permission(self, request: HttpRequest) -> bool:
        return is_money_operator(request.user)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit row."""
    if isinstance(value, models.Model):
        return f"{value._meta.label_lower}#{value.pk}"
    if isinstance(value, (int, float, bool, str, type(None))):
        return value[:200] if isinstance(value, str) else value
    if hasattr(value, "all") and callable(value.all):  # a many-to-many manager / queryset
        return sorted(str(v.pk) for v in value.all())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)[:200]


class AuditedChangesMixin:
    """Record every add / change / delete made in this admin in the audit log (changed fields only)."""

    audit_action_prefix = ""  # default: "<app_label>.<model_name>"
    model: Any  # set by the ModelAdmin this is mixed into

    def _audit_action(self, verb: str) -> str:
        prefix = self.audit_action_prefix or self.model._meta.label_lower
        return f"{prefix}_{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        before: dict[str, Any] = {}
        if change and obj.pk:
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            if old is not None:
                before = {name: _plain(getattr(old, name, None)) for name in form.changed_data}
        super().save_model(request, obj, form, change)  # type: ignore[misc]  # ModelAdmin's, after this mixin
        changed = {
            name: {"from": before.get(name), "to": _plain(form.cleaned_data.get(name))}
            for name in form.changed_data
            if name in form.cleaned_data
        }
        if change:  # fields a form reports as changed although the value is the same (JSON, m2m order)
            changed = {name: diff for name, diff in changed.items() if diff["from"] != diff["to"]}
        if change and not changed:
            return
        audit_record(
            actor=request.user,
            action=self._audit_action("change" if change else "add"),
            target=obj,
            summary=f"{obj}"[:120] + (f"：{', '.join(changed)}" if changed else ""),
            changed=changed,
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm[Any], formset: BaseFormSet[Any], change: bool
    ) -> None:
        """Inline rows (e.g. a level's promoter prices) are audited like the parent's fields."""
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        parent = form.instance
        rows = [
            *(("add", obj, {}) for obj in getattr(formset, "new_objects", [])),
            *(("change", obj, fields) for obj, fields in getattr(formset, "changed_objects", [])),
            *(("delete", obj, {}) for obj in getattr(formset, "deleted_objects", [])),
        ]
        for verb, obj, fields in rows:
            audit_record(
                actor=request.user,
                action=self._audit_action(f"{obj._meta.model_name}_{verb}"),
                target=parent,
                summary=f"{obj._meta.verbose_name}：{obj}"[:200],
                row_id=obj.pk,
                fields=list(fields),
                values={name: _plain(getattr(obj, name, None)) for name in fields}
                if verb == "change"
                else {},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        target_repr, pk = str(obj), obj.pk
        super().delete_model(request, obj)  # type: ignore[misc]
        obj.pk = pk  # the audit row names the deleted row
        audit_record(actor=request.user, action=self._audit_action("delete"), target=obj, summary=target_repr)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in list(queryset):
            self.delete_model(request, obj)


def mask_identifier(value: str, *, keep: int = 4) -> str:
    """o6_bmjrPTlm6_2sgVt7hMZOPfL2M -> o6_b***L2M (openids, unionids, bill numbers in lists)."""
    value = value or ""
    if not value:
        return "-"
    if len(value) <= keep + 3:
        return value[:2] + "***"
    return f"{value[:keep]}***{value[-3:]}"


def admin_link(obj: models.Model | None, text: object = None) -> str:
    """A link to an object's admin change page (plain text when it has none)."""
    if obj is None:
        return "-"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(text if text is not None else obj)
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def yuan_display(amount_fen: int | None) -> str:
    """An amount in fen as the admin lists show it (¥1,234.50), or "-" when there is none."""
    return "-" if amount_fen is None else fen_to_yuan_text(amount_fen, always_decimals=True)


def yuan_column(
    field: str = "amount_fen", *, description: StrOrPromise | None = None, sortable: bool = True
) -> Callable[[Any, Any], str]:
    """A list/detail column showing the fen `field` with `yuan_display`:
    `amount_display = yuan_column()` in an admin class (sorted by the field unless `sortable=False`)."""

    @admin.display(description=description or _("金额"), ordering=field if sortable else None)
    def column(self: Any, obj: Any) -> str:
        return yuan_display(getattr(obj, field))

    return column


def label_column(
    field: str, labels: Mapping[str, StrOrPromise], *, description: StrOrPromise
) -> Callable[[Any, Any], str]:
    """A column showing a stored code as operators read it (`labels`; an unknown code as stored, an
    empty one as "-"): `source_display = label_column("source", SOURCE_LABELS, description=_("来源"))`."""

    @admin.display(description=description, ordering=field)
    def column(self: Any, obj: Any) -> str:
        value = getattr(obj, field) or ""
        return str(labels.get(value, value)) if value else "-"

    return column


def label_filter(
    field: str,
    labels: Mapping[str, StrOrPromise] | Callable[[], Mapping[str, StrOrPromise]],
    *,
    title: StrOrPromise,
) -> type[admin.SimpleListFilter]:
    """A list filter over a code field offering its labels instead of the raw codes. `labels` may be
    a function, read when the filter is shown, for codes registered at run time (item types)."""

    class LabelFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            current = labels() if callable(labels) else labels
            return [(code, str(label)) for code, label in current.items() if code]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    LabelFilter.title = title
    return LabelFilter


def admin_url_for(label_lower: str, pk: object) -> str:
    """The change page of `app_label.model_name` #pk, or "" when that model has no admin."""
    app_label, _dot, model_name = label_lower.partition(".")
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


__all__ = [
    "AuditedChangesMixin",
    "FactRecordAdminMixin",
    "MoneyActionsMixin",
    "admin_link",
    "admin_url_for",
    "label_column",
    "label_filter",
    "mask_identifier",
    "yuan_column",
    "yuan_display",
]
