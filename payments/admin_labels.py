"""Human labels for item type codes in admin lists and filters (operators read 课程, not `course`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_tools import label_filter
from payments import items


def _item_type_labels() -> dict[str, str]:
    return {code: items.label_of(code) for code in sorted(items.registered())}


ItemTypeFilter = label_filter("item_type", _item_type_labels, title=_("商品类型"))


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
