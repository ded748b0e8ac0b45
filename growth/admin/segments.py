"""Tags and segments in admin. A tag's page sets its members (typed member numbers or phone numbers,
or a CSV upload: a wrong row refuses the whole input, listed row by row); a rule tag's page edits its
rule and recomputes it on save (and the list has a recompute action). A segment's page previews its
size and a sample before a campaign uses it. On the user list, 打标签 / 移除标签 tag the selected
members (`growth.segments.tags`)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from growth.models import MemberTag, Segment, Tag
from growth.segments import tags as tag_services
from growth.segments.rules import rule_preview, rule_summary, rule_validate
from members.admin.common import action_page
from members.models import User

RULE_HELP = _(
    'JSON：{"conditions": [条件, …]}，条件之间为「且」。条件类型：membership（tier 等级代码，state = '
    "active / ends_within / expired_within / never，days 天数）；purchase（item_type，min_total_fen 累计实付分，"
    "days 最近天数）；activity（visited true/false，days）；channel（direct / link / poster / moments / chat / "
    "miniprogram / group_buy / other）；promoter（is_promoter）；camp（camp_id，progress = enrolled / checkins "
    "/ graduated，min_checkins）；tags（match = any / all / none，tag_ids）。例：VIP 30 天内到期 "
    '{"conditions": [{"type": "membership", "tier": "VIP", "state": "ends_within", "days": 30}]}'
)


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


def preview_html(rule: Any) -> str:
    """Count and sample of a rule's members, or why the rule cannot be used now."""
    try:
        preview = rule_preview(rule)
    except ApplicationError as exc:
        return format_html('<span style="color:#d93026">{}</span>', exc.message)
    rows = format_html_join(
        "",
        "<li>{} · {} · {}</li>",
        (
            (
                user.member_no or user.username,
                user.nickname or "-",
                getattr(getattr(user, "membership", None), "tier", None) or _("非会员"),
            )
            for user in preview.sample
        ),
    )
    return format_html(
        "<strong data-segment-count>{}</strong><ul>{}</ul>",
        _("共 %(n)s 人，最近加入的 %(shown)s 人：") % {"n": preview.count, "shown": len(preview.sample)}
        if preview.count
        else _("共 0 人"),
        rows,
    )


# ---- tags ---------------------------------------------------------------------------------------------------


class TagForm(forms.ModelForm):
    rule = PrettyJSONField(
        label=_("规则"), required=False, help_text=RULE_HELP, widget=forms.Textarea(attrs={"rows": 6})
    )
    add_members = forms.CharField(
        label=_("添加会员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个会员编号或手机号；任一行有误则不添加任何人"),
    )
    import_file = forms.FileField(
        label=_("导入 CSV"),
        required=False,
        help_text=_(
            "第一列为会员编号或手机号（可有表头 member_no / phone）；任一行有误则整份不导入，并列出有误的行"
        ),
    )

    class Meta:
        model = Tag
        fields = ("name", "colour", "kind", "description", "rule")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind") or (self.instance.kind if self.instance.pk else None)
        self.found: dict[str, list[User]] = {}
        if kind == Tag.Kind.RULE:
            try:
                data["rule"] = tag_services.tag_rule_check(tag=self.instance, rule=data.get("rule"))
            except ApplicationError as exc:
                for error in exc.fields.get("rule", [exc.message]):
                    self.add_error("rule", error)
            if data.get("add_members") or data.get("import_file"):
                self.add_error(None, _("规则标签的成员由规则计算，不能手动添加或导入"))
            return data
        data["rule"] = {}
        sources = (
            ("add_members", MemberTag.Source.MANUAL, (data.get("add_members") or "").encode()),
            (
                "import_file",
                MemberTag.Source.IMPORT,
                data["import_file"].read() if data.get("import_file") else b"",
            ),
        )
        for field, source, raw in sources:
            if not raw.strip():
                continue
            try:
                report = tag_services.members_find(tag_services.identifiers_read(raw))
            except ApplicationError as exc:
                self.add_error(field, exc.message)
                continue
            for error in report.errors[:200]:
                self.add_error(field, error)
            if not report.errors:
                self.found[source] = report.users
        return data


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = (
        "name",
        "colour_swatch",
        "kind",
        "member_count",
        "recomputed_at",
        "created_by",
        "created_at",
    )
    list_filter = ("kind",)
    search_fields = ("name", "description")
    actions = ["recompute_selected"]
    readonly_fields = ("members_link", "recomputed_at", "created_by", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return (
            super().get_queryset(request).select_related("created_by").annotate(members=Count("member_tags"))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A tag's kind is fixed once made: turning a hand-made list into a rule would drop its members.
        return ("kind", *self.readonly_fields) if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "colour", "kind", "description"]
        if obj is None or obj.kind == Tag.Kind.RULE:
            fields.append("rule")
        if obj is None or obj.kind != Tag.Kind.RULE:
            fields += ["add_members", "import_file"]
        return [*fields, "members_link", "recomputed_at", "created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)
        for source, users in getattr(form, "found", {}).items():
            added = tag_services.tag_add(tag=obj, users=users, operator=request.user, source=source)
            self.message_user(request, _("新增 %(n)s 位会员") % {"n": added}, messages.SUCCESS)
        if obj.kind == Tag.Kind.RULE:
            result = tag_services.rule_tag_recompute(tag_id=obj.pk)
            if result is not None:
                self.message_user(request, self._recomputed_text(obj, result), messages.SUCCESS)

    @staticmethod
    def _recomputed_text(tag: Tag, result: tag_services.Recomputed) -> str:
        return str(_("「%(tag)s」已重新计算：新增 %(added)s，移除 %(removed)s，共 %(total)s 人")) % {
            "tag": tag.name,
            "added": result.added,
            "removed": result.removed,
            "total": result.total,
        }

    @admin.display(description=_("颜色"))
    def colour_swatch(self, obj: Tag) -> str:
        if not obj.colour:
            return "-"
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;background:{}"></span>', obj.colour
        )

    @admin.display(description=_("人数"), ordering="members")
    def member_count(self, obj: Tag) -> int:
        return getattr(obj, "members", 0)

    @admin.display(description=_("成员"))
    def members_link(self, obj: Tag) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:growth_membertag_changelist") + f"?tag__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a>', url, _("查看 %(n)s 位成员") % {"n": obj.member_tags.count()}
        )

    @admin.action(description=_("重新计算所选规则标签"), permissions=["change"])
    def recompute_selected(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        for tag in queryset.filter(kind=Tag.Kind.RULE).order_by("pk"):
            try:
                result = tag_services.rule_tag_recompute(tag_id=tag.pk)
            except ApplicationError as exc:
                self.message_user(request, f"{tag.name}: {exc.message}", messages.ERROR)
                continue
            if result is not None:
                self.message_user(request, self._recomputed_text(tag, result), messages.SUCCESS)


@admin.register(MemberTag)
class MemberTagAdmin(admin.ModelAdmin):
    list_display = ("user", "member_no", "tag", "source", "added_by", "added_at")
    list_filter = ("tag", "source")
    search_fields = ("user__member_no", "user__nickname", "user__username", "tag__name")
    list_select_related = ("user", "tag", "added_by")
    actions = ["remove_selected"]
    fields = ("user", "tag", "source", "added_by", "added_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # members are tagged from the tag's page, the user list or an import

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removal goes through the service (audited; rule tags refuse)

    @admin.display(description=_("会员编号"), ordering="user__member_no")
    def member_no(self, obj: MemberTag) -> str:
        return obj.user.member_no or "-"

    @admin.action(description=_("移除所选会员的标签"), permissions=["change"])
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[MemberTag]) -> None:
        removed = 0
        for tag in Tag.objects.filter(pk__in=queryset.values("tag_id")):
            users = list(User.objects.filter(pk__in=queryset.filter(tag=tag).values("user_id")))
            try:
                removed += tag_services.tag_remove(tag=tag, users=users, operator=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, _("已移除 %(n)s 个标签") % {"n": removed}, messages.SUCCESS)


# ---- segments -----------------------------------------------------------------------------------------------


class SegmentForm(forms.ModelForm):
    rule = PrettyJSONField(label=_("规则"), help_text=RULE_HELP, widget=forms.Textarea(attrs={"rows": 8}))

    class Meta:
        model = Segment
        fields = ("name", "description", "rule")

    def clean_rule(self) -> dict:
        try:
            return rule_validate(self.cleaned_data.get("rule"))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.fields.get("rule", [exc.message])) from None


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "conditions", "description", "created_by", "updated_at")
    search_fields = ("name", "description")
    readonly_fields = ("preview", "created_by", "created_at", "updated_at")
    list_select_related = ("created_by",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "description", "rule"]
        return fields if obj is None else ["preview", *fields, "created_by", "created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Segment, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    @admin.display(description=_("条件"))
    def conditions(self, obj: Segment) -> str:
        return rule_summary(obj.rule)

    @admin.display(description=_("预览"))
    def preview(self, obj: Segment) -> str:
        return preview_html(obj.rule) if obj.pk else "-"


# ---- 打标签 / 移除标签 on the user list ------------------------------------------------------------------------


class TagChoiceForm(forms.Form):
    tag = forms.ModelChoiceField(
        label=_("标签"),
        queryset=Tag.objects.exclude(kind=Tag.Kind.RULE),
        help_text=_("规则标签由规则计算，不在此列"),
    )


def _tag_action(modeladmin: Any, request: HttpRequest, users: QuerySet[User], *, remove: bool) -> Any:
    form = TagChoiceForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        tag = form.cleaned_data["tag"]
        if remove:
            n = tag_services.tag_remove(tag=tag, users=list(users), operator=request.user)
            modeladmin.message_user(
                request, _("已为 %(n)s 位会员移除标签「%(tag)s」") % {"n": n, "tag": tag}, messages.SUCCESS
            )
        else:
            n = tag_services.tag_add(tag=tag, users=list(users), operator=request.user)
            modeladmin.message_user(
                request, _("已为 %(n)s 位会员打上标签「%(tag)s」") % {"n": n, "tag": tag}, messages.SUCCESS
            )
        return None
    return action_page(
        modeladmin,
        request,
        title=str(_("移除标签") if remove else _("打标签")),
        form=form,
        objects=users,
    )


@admin.action(description=_("打标签"), permissions=["operator"])
def tag_members(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> Any:
    return _tag_action(modeladmin, request, queryset, remove=False)


@admin.action(description=_("移除标签"), permissions=["operator"])
def untag_members(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> Any:
    return _tag_action(modeladmin, request, queryset, remove=True)


# The user list is members' admin; growth sits above members and adds its two actions to it here
# (members cannot import growth). `permissions=["operator"]` is that admin's operator check.
_user_admin = admin.site.get_model_admin(User)
_user_admin.actions = [*(_user_admin.actions or ()), tag_members, untag_members]
