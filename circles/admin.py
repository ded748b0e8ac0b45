"""Operator and circle-owner screens. Circle owners (core.roles.CIRCLE_OWNER) see only their own circles.

Tips, paid questions and membership events are facts (read-only). Member actions (guest, remove with or
without refund, allow rejoin) are the circle's managers' (owner/admins: the services check it), so they
are shown only to people who manage a circle; moderation, feature and pin are also the operators'
(audited by the services). Circle prices and platform fees edited here are in the audit log.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circles.models import (
    Circle,
    CircleGrant,
    CircleMembership,
    CircleMembershipEvent,
    CircleRules,
    CircleSettings,
    Comment,
    PaidQuestion,
    Post,
    TipIntent,
)
from circles.selectors.stats import circle_stats
from circles.services import circles as circle_services
from circles.services import moderation as moderation_services
from circles.services import owner_tools, scheduling
from circles.services import posts as post_services
from core.admin_tools import AuditedChangesMixin, FactRecordAdminMixin, yuan_display
from core.errors import ApplicationError
from core.images import validate_images
from core.money import fen_to_yuan_text
from core.roles import OPERATOR, has_role, is_money_operator


def _owner_only(request) -> bool:
    """Everyone but superusers and operators is limited to circles they own."""
    return not (request.user.is_superuser or has_role(request.user, OPERATOR))


class OwnCirclesMixin:
    circle_path = "circle__owner"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if _owner_only(request):
            qs = qs.filter(**{self.circle_path: request.user})
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "circle" and _owner_only(request):
            kwargs["queryset"] = Circle.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CircleRulesInline(admin.TabularInline):
    model = CircleRules
    extra = 0
    fields = ("version", "body", "created_at")
    readonly_fields = ("version", "body", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CircleAdminForm(forms.ModelForm):
    class Meta:
        model = Circle
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown

    def clean_cover(self):
        """A new cover is checked like every upload: by its real content and size (core.images)."""
        cover = self.cleaned_data.get("cover")
        if cover and "cover" in self.changed_data:
            try:
                [(cover, _ext)] = validate_images([cover], max_count=1, field="cover")
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from exc
        return cover  # re-encoded: no EXIF


@admin.register(Circle)
class CircleAdmin(AuditedChangesMixin, OwnCirclesMixin, admin.ModelAdmin):
    form = CircleAdminForm
    circle_path = "owner"
    list_display = (
        "name",
        "owner",
        "pricing_mode",
        "price_fen",
        "trial_days",
        "rules_version",
        "visible_post_count",
        "is_published",
    )
    list_filter = ("is_published", "pricing_mode")
    search_fields = ("name", "owner__username", "owner__nickname")
    list_select_related = ("owner",)
    filter_horizontal = ("included_in_tiers",)
    readonly_fields = ("rules_version", "visible_post_count", "featured_post_count", "stats")
    inlines = [CircleRulesInline]
    fieldsets = (
        (None, {"fields": ("owner", "name", "intro", "cover", "is_published")}),
        (
            _("定价"),
            {
                "fields": (
                    "pricing_mode",
                    "price_fen",
                    "duration_days",
                    "window_starts_at",
                    "window_ends_at",
                    "late_join",
                    "trial_days",
                )
            },
        ),
        (
            _("续费价档"),
            {"fields": ("renew_window_days", "renew_early_bp", "renew_window_bp", "renew_late_bp")},
        ),
        (_("会员与问答"), {"fields": ("included_in_tiers", "qa_enabled", "qa_price_fen", "qa_answer_days")}),
        (_("统计"), {"fields": ("rules_version", "visible_post_count", "featured_post_count", "stats")}),
    )

    @admin.display(description=_("近 30 天"))
    def stats(self, obj):
        if not obj.pk:
            return "-"
        s = circle_stats(circle=obj)
        return _("成员 %(m)s · 退群率 %(c).2f%% · 日均发帖 %(p)s · 打赏 %(t)s（%(n)s 笔）") % {
            "m": s.members,
            "c": s.churn_bp / 100,
            "p": s.posts_per_day,
            "t": fen_to_yuan_text(s.tips_fen),
            "n": s.tips_count,
        }

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if _owner_only(request):
            fields.append("owner")
        return fields

    def save_model(self, request, obj, form, change):
        if not change and _owner_only(request):
            obj.owner = request.user
        super().save_model(request, obj, form, change)
        circle_services.circle_owner_ensure(circle=obj)


class ExpiringSoonFilter(admin.SimpleListFilter):
    """Renewal care: active paying members and trials whose time runs out soon."""

    title = _("到期")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        days = CircleSettings.current().expiring_soon_days
        return [
            ("7", _("7 天内到期")),
            (str(days), _("%(d)s 天内到期") % {"d": days}),
            ("expired", _("已过期")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(via_tier=False, expires_at__lte=now).exclude(
                role__in=CircleMembership.STAFF_ROLES
            )
        if self.value() and self.value().isdigit():
            return queryset.filter(
                status=CircleMembership.Status.ACTIVE,
                role__in=(CircleMembership.Role.MEMBER, CircleMembership.Role.TRIAL),
                via_tier=False,
                expires_at__gt=now,
                expires_at__lte=now + timedelta(days=int(self.value())),
            )
        return queryset


class CircleGrantInline(FactRecordAdminMixin, admin.TabularInline):
    """What the member paid for: each join/renewal order and the time it bought."""

    model = CircleGrant
    extra = 0
    fields = (
        "created_at",
        "kind",
        "order_no",
        "amount_display",
        "previous_expires_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields

    @admin.display(description=_("金额"))
    def amount_display(self, obj):
        return yuan_display(obj.amount_fen)


class MembershipEventInline(FactRecordAdminMixin, admin.TabularInline):
    model = CircleMembershipEvent
    extra = 0
    fields = ("created_at", "kind", "actor", "order_no", "details")
    readonly_fields = fields


def _manages_a_circle(user) -> bool:
    return (
        Circle.objects.filter(owner=user).exists()
        or CircleMembership.objects.filter(
            user=user, role=CircleMembership.Role.ADMIN, status=CircleMembership.Status.ACTIVE
        ).exists()
    )


@admin.register(CircleMembership)
class CircleMembershipAdmin(OwnCirclesMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "circle",
        "role",
        "status",
        "expires_at",
        "via_tier",
        "removed_with_refund",
        "rejoin_allowed",
    )
    list_filter = (ExpiringSoonFilter, "role", "status", "via_tier", "circle")
    search_fields = ("user__username", "user__nickname", "user__member_no")
    date_hierarchy = "expires_at"
    ordering = ("expires_at",)
    list_select_related = ("user", "circle")
    readonly_fields = [f.name for f in CircleMembership._meta.fields]
    inlines = [CircleGrantInline, MembershipEventInline]
    actions = ["promote_guest", "remove_without_refund", "remove_with_refund", "allow_rejoin"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_manage_permission(self, request) -> bool:
        """Member actions are the circle managers' (owner/admins): shown to people who manage one."""
        return self.has_change_permission(request) and _manages_a_circle(request.user)

    def _run(self, request, queryset, func, **kwargs):
        done = 0
        for membership in queryset.select_related("circle"):
            try:
                func(circle=membership.circle, membership=membership, actor=request.user, **kwargs)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{membership}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("已处理 %(n)s 位成员") % {"n": done})

    @admin.action(description=_("设为嘉宾"), permissions=["manage"])
    def promote_guest(self, request, queryset):
        self._run(request, queryset, owner_tools.circle_member_set_role, role=CircleMembership.Role.GUEST)

    @admin.action(description=_("移出（不退款）"), permissions=["manage"])
    def remove_without_refund(self, request, queryset):
        self._run(request, queryset, owner_tools.circle_member_remove, refund=False, reason="admin")

    def has_manage_money_permission(self, request) -> bool:
        """Removing with a refund moves money: a circle manager who is also a money operator."""
        return self.has_manage_permission(request) and is_money_operator(request.user)

    @admin.action(description=_("移出并退款"), permissions=["manage_money"])
    def remove_with_refund(self, request, queryset):
        self._run(request, queryset, owner_tools.circle_member_remove, refund=True, reason="admin")

    @admin.action(description=_("允许重新加入"), permissions=["manage"])
    def allow_rejoin(self, request, queryset):
        self._run(request, queryset, owner_tools.circle_member_allow_rejoin)


@admin.register(Post)
class PostAdmin(OwnCirclesMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "circle",
        "author",
        "kind",
        "status",
        "is_pinned",
        "is_featured",
        "like_count",
        "comment_count",
        "created_at",
        "publish_at",
    )
    list_filter = ("status", "kind", "is_featured", "is_pinned", "circle")
    search_fields = ("title", "body", "author__username", "author__nickname")
    list_select_related = ("circle", "author")
    date_hierarchy = "created_at"
    readonly_fields = (
        "like_count",
        "comment_count",
        "tip_count",
        "tip_total_fen",
        "status",
        "is_pinned",
        "is_featured",
        "featured_at",
        "question",
        "is_answered",
    )
    raw_id_fields = ("author",)
    actions = ["approve", "reject", "feature", "unfeature", "pin", "unpin", "publish_now", "cancel_schedule"]

    def save_model(self, request, obj, form, change):
        """定时发布 from admin goes through the scheduling services: a new post with a future time is
        written SCHEDULED; changing the time of an unpublished post reschedules it (audited)."""
        if change and "publish_at" in form.changed_data:
            wanted = obj.publish_at
            obj.publish_at = form.initial.get("publish_at")
            super().save_model(request, obj, form, change)
            if wanted is None:
                self.message_user(request, _("取消定时请用“取消定时发布”或“立即发布”"), messages.WARNING)
                return
            try:
                scheduling.post_reschedule(post=obj, actor=request.user, publish_at=wanted)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            return
        if not change and obj.publish_at is not None:
            try:
                obj.publish_at = post_services.publish_time_check(obj.publish_at)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                obj.publish_at = None
            else:
                obj.status = Post.Status.SCHEDULED
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, func, **kwargs):
        for post in queryset.select_related("circle"):
            try:
                func(post=post, actor=request.user, **kwargs)
            except ApplicationError as exc:
                self.message_user(request, f"{post}: {exc.message}", messages.ERROR)

    @admin.action(description=_("审核通过"), permissions=["change"])
    def approve(self, request, queryset):
        self._each(request, queryset, moderation_services.post_moderate, approve=True)

    @admin.action(description=_("审核驳回"), permissions=["change"])
    def reject(self, request, queryset):
        self._each(request, queryset, moderation_services.post_moderate, approve=False)

    @admin.action(description=_("设为精华"), permissions=["change"])
    def feature(self, request, queryset):
        self._each(request, queryset, post_services.post_set_flags, featured=True)

    @admin.action(description=_("取消精华"), permissions=["change"])
    def unfeature(self, request, queryset):
        self._each(request, queryset, post_services.post_set_flags, featured=False)

    @admin.action(description=_("置顶"), permissions=["change"])
    def pin(self, request, queryset):
        self._each(request, queryset, post_services.post_set_flags, pinned=True)

    @admin.action(description=_("取消置顶"), permissions=["change"])
    def unpin(self, request, queryset):
        self._each(request, queryset, post_services.post_set_flags, pinned=False)

    @admin.action(description=_("立即发布（定时帖子）"), permissions=["change"])
    def publish_now(self, request, queryset):
        self._each(request, queryset.filter(status=Post.Status.SCHEDULED), scheduling.post_publish_now)

    @admin.action(description=_("取消定时发布"), permissions=["change"])
    def cancel_schedule(self, request, queryset):
        self._each(request, queryset.filter(status=Post.Status.SCHEDULED), scheduling.post_schedule_cancel)


@admin.register(Comment)
class CommentAdmin(OwnCirclesMixin, admin.ModelAdmin):
    circle_path = "post__circle__owner"
    list_display = ("__str__", "post", "author", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("body", "author__username", "author__nickname")
    list_select_related = ("post", "author")
    date_hierarchy = "created_at"
    readonly_fields = ("status", "tip_count", "tip_total_fen")
    raw_id_fields = ("post", "author", "parent")
    actions = ["approve", "reject"]

    def _each(self, request, queryset, approve: bool):
        for comment in queryset.select_related("post__circle"):
            try:
                moderation_services.comment_moderate(comment=comment, actor=request.user, approve=approve)
            except ApplicationError as exc:
                self.message_user(request, f"{comment}: {exc.message}", messages.ERROR)

    @admin.action(description=_("审核通过"), permissions=["change"])
    def approve(self, request, queryset):
        self._each(request, queryset, True)

    @admin.action(description=_("审核驳回"), permissions=["change"])
    def reject(self, request, queryset):
        self._each(request, queryset, False)


@admin.register(TipIntent)
class TipIntentAdmin(OwnCirclesMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "circle",
        "tipper",
        "recipient",
        "amount_display",
        "share_display",
        "status",
        "order_no",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "circle")
    search_fields = ("order_no", "tipper__username", "tipper__nickname", "recipient__nickname")
    list_select_related = ("circle", "tipper", "recipient")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in TipIntent._meta.fields]

    @admin.display(description=_("金额"), ordering="amount_fen")
    def amount_display(self, obj):
        return yuan_display(obj.amount_fen)

    @admin.display(description=_("作者所得"), ordering="author_share_fen")
    def share_display(self, obj):
        return yuan_display(obj.author_share_fen)


@admin.register(PaidQuestion)
class PaidQuestionAdmin(OwnCirclesMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("id", "circle", "asker", "guest", "price_display", "status", "deadline", "created_at")
    list_filter = ("status", "circle")
    search_fields = ("order_no", "body", "asker__nickname", "guest__nickname")
    list_select_related = ("circle", "asker", "guest")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in PaidQuestion._meta.fields]

    @admin.display(description=_("价格"), ordering="price_fen")
    def price_display(self, obj):
        return yuan_display(obj.price_fen)


@admin.register(CircleMembershipEvent)
class CircleMembershipEventAdmin(OwnCirclesMixin, FactRecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "circle", "membership", "kind", "actor", "order_no")
    list_filter = ("kind", "circle")
    search_fields = ("order_no", "membership__user__username", "membership__user__nickname")
    list_select_related = ("circle", "membership__user", "actor")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in CircleMembershipEvent._meta.fields]


@admin.register(CircleSettings)
class CircleSettingsAdmin(AuditedChangesMixin, admin.ModelAdmin):
    list_display = ("__str__", "tip_min_fen", "tip_max_fen", "tip_platform_fee_bp", "qa_platform_fee_bp")

    def has_add_permission(self, request):
        return not CircleSettings.objects.exists()

    def has_module_permission(self, request):
        return not _owner_only(request)
