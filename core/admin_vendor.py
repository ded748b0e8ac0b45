"""Chinese labels for the admin of the packages we use whose own catalogues leave them in English
(simplejwt's token blacklist, allauth's web sessions and social accounts): their admins are
re-registered with labelled columns and a Chinese list title, and the grouped admin index
(core.admin_groups) shows their Chinese names. Imported by core.admin, after the packages' admins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from core.admin_groups import rename

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

VENDOR_LABELS: dict[type[models.Model], tuple[StrOrPromise, dict[str, StrOrPromise]]] = {
    OutstandingToken: (
        _("已签发的登录令牌"),
        {
            "id": _("编号"),
            "jti": _("令牌编号"),
            "user": _("用户"),
            "token": _("令牌"),
            "created_at": _("签发时间"),
            "expires_at": _("过期时间"),
        },
    ),
    BlacklistedToken: (
        _("已作废的登录令牌"),
        {
            "id": _("编号"),
            "token": _("令牌"),
            "token_jti": _("令牌编号"),
            "token_created_at": _("签发时间"),
            "blacklisted_at": _("作废时间"),
        },
    ),
    UserSession: (
        _("网页登录会话"),
        {
            "user": _("用户"),
            "created_at": _("登录时间"),
            "last_seen_at": _("最近活动"),
            "ip": _("IP 地址"),
            "user_agent": _("浏览器标识"),
        },
    ),
    SocialAccount: (_("社交账号"), {"user": _("用户")}),
    SocialToken: (
        _("社交应用令牌"),
        {"app": _("应用"), "account": _("社交账号"), "truncated_token": _("令牌")},
    ),
}


def _column(base: type[admin.ModelAdmin[Any]], name: str, label: StrOrPromise) -> Callable[..., Any]:
    """`name` of the package's admin (its method, or a field of the model) under a Chinese heading."""
    method = getattr(base, name, None)

    @admin.display(description=label, ordering=None if callable(method) else name)
    def column(self: admin.ModelAdmin[Any], obj: models.Model) -> Any:
        return method(self, obj) if callable(method) else getattr(obj, name)

    return column


def relabel(model: type[models.Model], plural: StrOrPromise, columns: Mapping[str, StrOrPromise]) -> None:
    """Re-register `model`'s admin with the labelled columns and a Chinese list title."""
    if model not in admin.site._registry:
        return
    base = type(admin.site._registry[model])
    attrs: dict[str, Any] = {}
    display: list[Any] = []
    for name in base.list_display:
        if isinstance(name, str) and name in columns:
            attrs[f"labelled_{name}"] = _column(base, name, columns[name])
            display.append(f"labelled_{name}")
        else:
            display.append(name)
    attrs["list_display"] = tuple(display)

    def changelist_view(
        self: admin.ModelAdmin[Any], request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return base.changelist_view(self, request, {"title": plural, **(extra_context or {})})

    attrs["changelist_view"] = changelist_view

    # The change page: form fields get the Chinese labels, and fields the package shows read-only are
    # replaced by the labelled columns (Django titles read-only fields with the model's English
    # verbose names); their originals leave the form.
    def relabelled_read_only(self: admin.ModelAdmin[Any], request: HttpRequest, obj: Any) -> list[str]:
        return [
            n for n in base.get_readonly_fields(self, request, obj) if isinstance(n, str) and n in columns
        ]

    def get_readonly_fields(self: admin.ModelAdmin[Any], request: HttpRequest, obj: Any = None) -> Any:
        names = list(base.get_readonly_fields(self, request, obj))
        swapped = set(relabelled_read_only(self, request, obj))
        for name in swapped:
            if not hasattr(type(self), f"labelled_{name}"):
                setattr(type(self), f"labelled_{name}", _column(base, name, columns[name]))
        return [f"labelled_{n}" if n in swapped else n for n in names]

    def get_exclude(self: admin.ModelAdmin[Any], request: HttpRequest, obj: Any = None) -> Any:
        return [*(base.get_exclude(self, request, obj) or ()), *relabelled_read_only(self, request, obj)]

    def get_form(self: admin.ModelAdmin[Any], request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = base.get_form(self, request, obj, **kwargs)
        for name, label in columns.items():
            if name in form.base_fields:
                form.base_fields[name].label = label
        return form

    attrs.update(get_readonly_fields=get_readonly_fields, get_exclude=get_exclude, get_form=get_form)
    admin.site.unregister(model)
    admin.site.register(model, type(f"Labelled{base.__name__}", (base,), attrs))
    rename(model._meta.label_lower, plural)


for _model, (_plural, _columns) in VENDOR_LABELS.items():
    relabel(_model, _plural, _columns)
