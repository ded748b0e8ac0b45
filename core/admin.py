"""Admin of core: the audit log (append-only) and WeChat identities (read-only, identifiers masked)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core import brand
from core.admin_tools import FactRecordAdminMixin, admin_url_for, mask_identifier
from core.models import AttemptCounter, AuditLog, Brand, WeChatIdentity
from core.posters import brand_preview_png


@admin.register(AuditLog)
class AuditLogAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Who did what to money and memberships. Rows are written by services and admin actions only."""

    list_display = ("created_at", "actor", "action", "target_display", "summary")
    list_filter = ("action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=target_id", "summary", "action", "actor__username", "actor__nickname")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "action", "target_display", "summary", "details_display")
    readonly_fields = fields

    @admin.display(description=_("对象"), ordering="target_type")
    def target_display(self, obj: AuditLog) -> str:
        text = f"{obj.target_type}#{obj.target_id}"
        url = admin_url_for(obj.target_type, obj.target_id) if obj.target_id.isdigit() else ""
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    @admin.display(description=_("详情"))
    def details_display(self, obj: AuditLog) -> str:
        if not obj.details:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", obj.details.items())
        return format_html("<table>{}</table>", rows)


@admin.register(WeChatIdentity)
class WeChatIdentityAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Created by the login flows; never edited by hand. openid/unionid are shown masked; support staff
    find a person by pasting the full openid or unionid into search (exact match)."""

    list_display = ("user", "kind", "appid", "masked_openid", "masked_unionid", "created_at")
    list_filter = ("kind", "appid")
    search_fields = ("=openid", "=unionid", "user__username", "user__nickname", "user__member_no")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "kind", "appid", "masked_openid", "masked_unionid", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description=_("微信 OpenID"))
    def masked_openid(self, obj: WeChatIdentity) -> str:
        return mask_identifier(obj.openid)

    @admin.display(description=_("微信 UnionID"))
    def masked_unionid(self, obj: WeChatIdentity) -> str:
        return mask_identifier(obj.unionid)


@admin.register(AttemptCounter)
class AttemptCounterAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    """Failed logins per account/address and rejected notifications per minute (read-only)."""

    list_display = ("window_start", "key", "count")
    list_filter = ("window_start",)
    search_fields = ("key",)
    fields = ("window_start", "key", "count")
    readonly_fields = fields


class _ColourInput(forms.TextInput):
    input_type = "color"


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = (
            "site_name",
            "short_name",
            "tagline",
            "description",
            "logo",
            "poster_background",
            "primary_color",
            "accent_color",
            "share_title",
            "footer_text",
            "terms_url",
            "privacy_url",
            "icp_text",
        )
        widgets = {"primary_color": _ColourInput(), "accent_color": _ColourInput()}


class BrandPreviewForm(forms.ModelForm):
    """The live preview's input: the form's text and colour fields as typed, validated as saving
    would validate them, never saved."""

    class Meta:
        model = Brand
        fields = tuple(brand.EDITABLE)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    """One row (adding a second is refused). The preview follows the form as the operator types: the
    page header in the brand's colours and the operator's own share poster, drawn from the unsaved
    values (static/js/brand_preview.js); uploaded images show once saved."""

    form = BrandForm

    class Media:
        js = ("js/brand_preview.js",)
        css = {"all": ("css/brand_preview.css",)}

    readonly_fields = ("preview",)
    fieldsets = (
        (_("名称"), {"fields": ("site_name", "short_name", "tagline", "description", "logo")}),
        (_("颜色"), {"fields": ("primary_color", "accent_color")}),
        (
            _("分享与页脚"),
            {
                "fields": (
                    "share_title",
                    "poster_background",
                    "footer_text",
                    "terms_url",
                    "privacy_url",
                    "icp_text",
                )
            },
        ),
        (_("预览"), {"fields": ("preview",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Brand.objects.exists() and super().has_add_permission(request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        """There is one brand: 品牌设置 opens its form (or the form to create it), not a one-row list."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row = Brand.objects.order_by("pk").values_list("pk", flat=True).first()
        if row is None:
            return redirect("admin:core_brand_add")
        return redirect("admin:core_brand_change", row)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        # No 保存并增加另一个: a second brand is refused anyway.
        extra = {**(extra_context or {}), "show_save_and_add_another": False}
        return super().changeform_view(request, object_id, form_url, extra)

    def has_delete_permission(self, request: HttpRequest, obj: Brand | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "poster-preview.png",
                self.admin_site.admin_view(self.poster_preview),
                name="core_brand_poster_preview",
            ),
            *super().get_urls(),
        ]

    def poster_preview(self, request: HttpRequest) -> HttpResponse:
        """The operator's own share poster with the form's unsaved values (`?site_name=…`), or the
        saved brand without any. Values saving would refuse get a 400 naming them, and draw nothing."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        info = brand.current()
        edits = {name: request.GET[name] for name in brand.EDITABLE if name in request.GET}
        if edits:
            saved = Brand.objects.filter(pk=1).first() or Brand()
            form = BrandPreviewForm({**{n: getattr(saved, n) for n in brand.EDITABLE}, **edits})
            if not form.is_valid():
                errors = "; ".join(
                    f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()
                )
                return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
            info = brand.with_edits(info, {name: form.cleaned_data[name] for name in edits})
        png = brand_preview_png(user=request.user, info=info, share_url=request.build_absolute_uri("/"))
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description=_("预览"))
    def preview(self, obj: Brand) -> SafeString:
        """A page header and the share poster, redrawn by static/js/brand_preview.js as fields change."""
        info = brand.current()
        return format_html(
            '<div class="brand-preview" data-brand-preview data-poster-url="{poster}"'
            ' data-primary="{primary}" data-accent="{accent}">'
            '<p class="brand-preview-help">{help}</p>'
            '<div class="brand-preview-header" data-preview-header>{mark}'
            '<strong data-preview="short_name">{short}</strong></div>'
            '<div class="brand-preview-hero" data-preview-hero>'
            '<strong data-preview="site_name">{name}</strong>'
            '<span data-preview="tagline">{tagline}</span>'
            '<span class="brand-preview-button" data-preview-button>{join}</span></div>'
            '<img class="brand-preview-poster" data-preview-poster src="{poster}?v={version}"'
            ' alt="{poster_alt}" width="250" height="400"></div>',
            poster=reverse("admin:core_brand_poster_preview"),
            primary=info.primary_color,
            accent=info.accent_color,
            help=_("预览随输入即时更新；上传的标志和海报背景图保存后显示。"),
            # The site icon is drawn from the short name's first character in the primary colour
            # unless a logo is uploaded: the preview draws that mark as the operator types.
            mark=(
                format_html('<img src="{}?v={}" alt="" width="28" height="28">', info.logo_url, info.version)
                if info.logo_url
                else format_html(
                    '<span class="brand-preview-mark" data-preview-initial>{}</span>', info.initial
                )
            ),
            version=info.version,
            short=info.short_name,
            name=info.site_name,
            tagline=info.tagline,
            join=_("立即开通"),
            poster_alt=_("海报预览"),
        )


# Beat's PeriodicTask admin with the money-task rule, and Chinese labels for the packages' admins their
# catalogues leave in English: both re-register the packages' own admins, so they come last.
from core import admin_beat, admin_vendor  # noqa: E402, F401
