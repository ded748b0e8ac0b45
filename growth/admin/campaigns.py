"""Campaigns in admin: an operator writes a draft for a segment (its size previewed on the page),
a sender (`growth.send_campaign`) schedules it — recorded with who did — and anyone who may change
campaigns cancels one; the page shows the delivery figures and the orders attributed to it. Deliveries
and members' marketing preferences are records, shown read-only."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_tools import FactRecordAdminMixin, admin_link, yuan_display
from core.errors import ApplicationError
from growth.admin.segments import preview_html
from growth.campaigns import services
from growth.campaigns.selectors import campaign_figures, campaign_orders
from growth.models import Campaign, CampaignDelivery, MarketingPreference
from members.models import SubscribeTemplate, User

EDITABLE = (
    "name",
    "segment",
    "title",
    "body",
    "link",
    "send_insite",
    "send_subscribe",
    "subscribe_template",
    "send_sms",
    "sms_text",
    "coupon",
    "scheduled_at",
    "rate_per_minute",
)
RECORD = ("state", "created_by", "scheduled_by", "started_at", "finished_at", "recipients")


def _template_choices() -> list[tuple[str, str]]:
    configured = SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="").order_by("key")
    return [("", "—"), *((t.key, f"{t.name} ({t.key})") for t in configured)]


class CampaignForm(forms.ModelForm):
    subscribe_template = forms.ChoiceField(label=_("订阅消息模板"), required=False, choices=_template_choices)

    class Meta:
        model = Campaign
        fields = EDITABLE
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def clean_link(self) -> str:
        link = (self.cleaned_data.get("link") or "").strip()
        if link and not (link.startswith("/") and not link.startswith("//")):
            raise forms.ValidationError(_("请填写站内路径，以 / 开头"))
        return link

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        segment = data.get("segment")
        if segment is not None:
            try:
                services.campaign_check(
                    send_insite=bool(data.get("send_insite")),
                    send_subscribe=bool(data.get("send_subscribe")),
                    subscribe_template=data.get("subscribe_template") or "",
                    send_sms=bool(data.get("send_sms")),
                    segment_rule=segment.rule,
                )
            except ApplicationError as exc:
                fields: dict[str, list[str]] = exc.fields or {"": [exc.message]}
                for field, errors in fields.items():
                    for error in errors:
                        self.add_error(field if field in self.fields else None, error)
        return data


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = (
        "name",
        "segment",
        "state",
        "scheduled_at",
        "channels",
        "recipients",
        "created_by",
        "scheduled_by",
    )
    list_filter = ("state", "send_insite", "send_subscribe", "send_sms")
    search_fields = ("name", "title")
    list_select_related = ("segment", "created_by", "scheduled_by")
    date_hierarchy = "created_at"
    actions = ["schedule_selected", "unschedule_selected", "cancel_selected"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return EDITABLE
        return (*RECORD, "figures", "attributed_orders", "segment_preview", *EDITABLE)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        extra = ("figures", "attributed_orders", "segment_preview")
        # Once scheduled, what members will receive is fixed: take it back to draft to edit.
        return (*RECORD, *extra) if obj.state == Campaign.State.DRAFT else (*RECORD, *extra, *EDITABLE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or obj.state == Campaign.State.DRAFT
        )

    def has_send_permission(self, request: HttpRequest) -> bool:
        return services.can_send(request.user)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = cast(User, request.user)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("渠道"))
    def channels(self, obj: Campaign) -> str:
        names = [
            str(label)
            for on, label in (
                (obj.send_insite, _("站内")),
                (obj.send_subscribe, _("订阅消息")),
                (obj.send_sms, _("短信")),
            )
            if on
        ]
        return "、".join(names) or "-"

    @admin.display(description=_("发送数据"))
    def figures(self, obj: Campaign) -> str:
        f = campaign_figures(obj)
        rows = [
            (_("收件人"), f.recipients),
            (_("待发送"), f.pending),
            (_("跳过：已退订"), f.unsubscribed),
            (_("站内通知 已发送"), f.insite_sent),
            (_("站内通知 已读"), f.insite_read),
            (_("订阅消息 已推送"), f.subscribe_sent),
            (_("订阅消息 排队中"), f.subscribe_queued),
            (_("订阅消息 跳过：无订阅次数"), f.subscribe_skipped),
            (_("订阅消息 失败"), f.subscribe_failed),
            (_("短信 已发送"), f.sms_sent),
            (_("短信 跳过：未同意"), f.sms_no_consent),
            (_("短信 跳过：无手机号"), f.sms_no_phone),
            (_("短信 失败"), f.sms_failed),
            (_("跳过合计"), f.skipped),
            (_("失败合计"), f.failed),
        ]
        return format_html(
            "<table data-campaign-figures>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("归因订单"))
    def attributed_orders(self, obj: Campaign) -> str:
        totals = campaign_orders(obj).aggregate(n=Count("pk"), amount=Sum("amount_fen"))
        return str(
            _("%(n)s 笔，%(amount)s（收到后 7 天内支付的订单）")
            % {"n": totals["n"] or 0, "amount": yuan_display(totals["amount"] or 0)}
        )

    @admin.display(description=_("人群预览"))
    def segment_preview(self, obj: Campaign) -> str:
        if obj.state != Campaign.State.DRAFT and obj.state != Campaign.State.SCHEDULED:
            return "-"  # sent: the recipients are the snapshot above, not today's segment
        return preview_html(obj.segment.rule)

    @admin.action(description=_("安排发送（到发送时间自动开始；未填时间则立即）"), permissions=["send"])
    def schedule_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, lambda c: services.campaign_schedule(campaign=c, operator=request.user))

    @admin.action(description=_("撤回为草稿（开始发送前）"), permissions=["send"])
    def unschedule_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(
            request, queryset, lambda c: services.campaign_unschedule(campaign=c, operator=request.user)
        )

    @admin.action(description=_("取消发送"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, lambda c: services.campaign_cancel(campaign=c, operator=request.user))

    def _each(self, request: HttpRequest, queryset: QuerySet[Campaign], act: Any) -> None:
        for campaign in queryset.order_by("pk"):
            try:
                done = act(campaign)
            except ApplicationError as exc:
                self.message_user(request, f"{campaign.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{done.name}: {done.get_state_display()}", messages.SUCCESS)


@admin.register(CampaignDelivery)
class CampaignDeliveryAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "campaign",
        "user",
        "status",
        "insite_status",
        "subscribe_status",
        "sms_status",
        "delivered_at",
        "notification_link",
    )
    list_filter = ("status", "insite_status", "subscribe_status", "sms_status", "campaign")
    search_fields = ("user__member_no", "user__nickname", "user__username", "campaign__name")
    list_select_related = ("campaign", "user", "notification")
    fields = (
        "campaign",
        "user",
        "status",
        "claimed_at",
        "delivered_at",
        "insite_status",
        "subscribe_status",
        "sms_status",
        "notification_link",
        "error",
    )
    readonly_fields = fields

    @admin.display(description=_("站内通知"))
    def notification_link(self, obj: CampaignDelivery) -> str:
        return admin_link(obj.notification) if obj.notification_id else "-"


@admin.register(MarketingPreference)
class MarketingPreferenceAdmin(FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "sms_consent",
        "sms_consent_changed_at",
        "unsubscribed",
        "unsubscribed_changed_at",
    )
    list_filter = ("sms_consent", "unsubscribed")
    search_fields = ("user__member_no", "user__nickname", "user__username")
    list_select_related = ("user",)
    fields = list_display
    readonly_fields = fields
