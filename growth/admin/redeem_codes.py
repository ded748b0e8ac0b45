"""Redeem codes in admin: an operator makes a batch for a company (the codes are drawn by
`growth.redeem_codes.services.batch_create`), exports it as CSV for the buyer, and revokes what is no
longer to be used. Batches and codes are records: nothing is edited or deleted after they are made."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_tools import admin_link, label_filter
from core.errors import ApplicationError
from growth.models import RedeemCode, RedeemCodeBatch
from growth.redeem_codes import services
from payments import items


def _item_type_choices() -> list[tuple[str, str]]:
    return [(code, items.label_of(code)) for code in services.REDEEMABLE_ITEM_TYPES]


class RedeemCodeBatchForm(forms.ModelForm):
    """The add form: what the batch is for, how many, until when. The item is checked the way the
    batch will be made (services.item_title_for), so a wrong id is a form error, not a server error."""

    item_type = forms.ChoiceField(label=_("商品类型"), choices=_item_type_choices)

    class Meta:
        model = RedeemCodeBatch
        fields = ("name", "item_type", "item_id", "size", "expires_at", "note")
        help_texts = {"item_id": _("会员填等级代码（如 VIP），会员天数填 VIP:30，其余填编号")}

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        wanted = ("name", "item_type", "item_id", "size", "expires_at")
        if all(data.get(name) is not None for name in wanted):  # the rest are already field errors
            try:
                services.batch_check(
                    **{name: data[name] for name in wanted}, operator=getattr(self.request, "user", None)
                )
            except ApplicationError as exc:  # the rule making the batch applies, said on its field
                for field, errors in (exc.fields or {"item_id": [exc.message]}).items():
                    for error in errors:
                        self.add_error(field if field in self.fields else None, error)
        return data


@admin.register(RedeemCodeBatch)
class RedeemCodeBatchAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "item_title",
        "size",
        "redeemed_count",
        "expires_at",
        "state",
        "created_by",
        "created_at",
    )
    list_filter = (
        label_filter("item_type", lambda: dict(_item_type_choices()), title=_("商品类型")),
        "revoked_at",
    )
    search_fields = ("name", "item_title", "note")
    date_hierarchy = "created_at"
    actions = ["export_csv", "revoke_selected"]
    list_select_related = ("created_by",)
    readonly_fields = (
        "name",
        "item_type_label",
        "item_id",
        "item_title",
        "size",
        "expires_at",
        "note",
        "created_by",
        "created_at",
        "revoked_at",
        "revoked_by",
        "code_counts",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[RedeemCodeBatch]:
        return (
            super()
            .get_queryset(request)
            .annotate(redeemed=Count("codes", filter=Q(codes__redeemed_by__isnull=False)))
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = RedeemCodeBatchForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:

            class WithRequest(form):  # type: ignore[valid-type,misc]
                def __init__(self, *args: Any, **kw: Any) -> None:
                    super().__init__(*args, request=request, **kw)

            return WithRequest
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else RedeemCodeBatchForm.Meta.fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A batch's page is read-only (its codes were handed out); the change permission is what
        # the revoke action asks for.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RedeemCodeBatch, form: Any, change: bool) -> None:
        if change:
            return  # nothing of a batch is edited once its codes exist
        data = form.cleaned_data
        batch = services.batch_create(
            name=data["name"],
            item_type=data["item_type"],
            item_id=data["item_id"],
            size=data["size"],
            expires_at=data["expires_at"],
            note=data.get("note", ""),
            created_by=request.user,
        )
        obj.pk = batch.pk  # what the add view's message and redirect need of the saved batch

    @admin.display(description=_("商品类型"), ordering="item_type")
    def item_type_label(self, obj: RedeemCodeBatch) -> str:
        return items.label_of(obj.item_type)

    @admin.display(description=_("已兑换"), ordering="redeemed")
    def redeemed_count(self, obj: RedeemCodeBatch) -> int:
        return getattr(obj, "redeemed", 0)

    @admin.display(description=_("状态"))
    def state(self, obj: RedeemCodeBatch) -> str:
        if obj.revoked_at is not None:
            return str(_("已作废"))
        return str(_("可兑换")) if obj.is_open else str(_("已过期"))

    @admin.display(description=_("兑换情况"))
    def code_counts(self, obj: RedeemCodeBatch) -> str:
        """Counted in one statement; an unused code of a revoked or expired batch counts as such."""
        counts = obj.codes.aggregate(
            redeemed=Count("pk", filter=Q(redeemed_by__isnull=False)),
            revoked=Count("pk", filter=Q(redeemed_by__isnull=True, revoked_at__isnull=False)),
            open=Count("pk", filter=Q(redeemed_by__isnull=True, revoked_at__isnull=True)),
        )
        state = RedeemCode.State
        by_state = {
            state.UNUSED: 0,
            state.REDEEMED: counts["redeemed"],
            state.REVOKED: counts["revoked"],
            state.EXPIRED: 0,
        }
        if obj.revoked_at is not None:
            by_state[state.REVOKED] += counts["open"]
        elif not obj.is_open:
            by_state[state.EXPIRED] = counts["open"]
        else:
            by_state[state.UNUSED] = counts["open"]
        labels = dict(state.choices)
        return "，".join(f"{labels[key]} {count}" for key, count in by_state.items())

    @admin.action(description=_("导出兑换码（CSV）"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[RedeemCodeBatch]) -> HttpResponse:
        parts = [services.batch_csv(batch) for batch in queryset.order_by("pk")]
        body = parts[0] + "".join(part.split("\n", 1)[1] for part in parts[1:]) if parts else ""
        response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="redeem-codes.csv"'
        return response

    @admin.action(description=_("作废所选批次中未兑换的兑换码"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[RedeemCodeBatch]) -> None:
        ended = sum(services.batch_revoke(batch=batch, operator=request.user) for batch in queryset)
        self.message_user(request, _("已作废 %(n)s 个未兑换的兑换码") % {"n": ended}, messages.SUCCESS)


@admin.register(RedeemCode)
class RedeemCodeAdmin(admin.ModelAdmin):
    list_display = ("display", "batch", "state", "redeemed_by", "redeemed_at", "order_link")
    list_filter = ("batch",)
    search_fields = ("code", "redeemed_by__username", "redeemed_by__nickname", "order__order_no")
    list_select_related = ("batch", "redeemed_by", "order")
    actions = ["revoke_selected"]
    fields = ("display", "batch", "state", "redeemed_by", "redeemed_at", "order_link", "revoked_at")
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        # Codes are stored without dashes: XXXX-XXXX-XXXX as typed finds its row.
        normalized = services.normalize_code(search_term)
        return super().get_search_results(request, queryset, normalized or search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # codes are made by batches

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("兑换码"), ordering="code")
    def display(self, obj: RedeemCode) -> str:
        return obj.display

    @admin.display(description=_("状态"))
    def state(self, obj: RedeemCode) -> str:
        return str(dict(RedeemCode.State.choices)[obj.state_at(timezone.now())])

    @admin.display(description=_("订单"))
    def order_link(self, obj: RedeemCode) -> str:
        return admin_link(obj.order) if obj.order_id else "-"

    @admin.action(description=_("作废所选的未兑换兑换码"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[RedeemCode]) -> None:
        ended = sum(services.code_revoke(code=code, operator=request.user) for code in queryset)
        self.message_user(request, _("已作废 %(n)s 个未兑换的兑换码") % {"n": ended}, messages.SUCCESS)
