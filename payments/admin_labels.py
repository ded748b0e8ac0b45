"""Human labels for item type codes in admin lists and filters (operators read 课程, not `course`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from payments import items


class ItemTypeFilter(admin.SimpleListFilter):
    title = _("商品类型")
    parameter_name = "item_type"

    def lookups(self, request, model_admin):
        return [(code, items.label_of(code)) for code in sorted(items.registered())]

    def queryset(self, request, queryset):
        return queryset.filter(item_type=self.value()) if self.value() else queryset


@admin.display(description=_("商品类型"), ordering="item_type")
def item_type_column(obj) -> str:
    return items.label_of(obj.item_type)


def item_type_choice_field(field: forms.Field | None) -> forms.ChoiceField:
    """An item-type form field offering the registered types by name (`course · 课程`), keeping the
    model field's label and help text."""
    choices = [(code, f"{code} · {kind.label}") for code, kind in sorted(items.registered().items())]
    return forms.ChoiceField(
        choices=choices,
        label=getattr(field, "label", None),
        help_text=getattr(field, "help_text", ""),
    )
