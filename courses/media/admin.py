"""Admin of protected media: upload a video or audio file, follow its transcoding (status, progress,
error, attempts), try a failed one again; lessons pick an asset in the course's lesson list. Teachers
see and upload their own assets only (`courses.admin_ownership`)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from courses.admin_ownership import OwnMixin
from courses.media import tasks as media_tasks
from courses.media import transcode
from courses.models import MediaAsset

UPLOAD_SUFFIXES = {
    MediaAsset.Kind.VIDEO: {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".ts"},
    MediaAsset.Kind.AUDIO: {".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus", ".mp4"},
}


class MediaAssetForm(forms.ModelForm):
    class Meta:
        model = MediaAsset
        fields = ("title", "kind", "source")

    def clean(self):
        data = super().clean()
        upload, kind = data.get("source"), data.get("kind")
        if upload is None or kind is None or not hasattr(upload, "size"):
            return data
        if upload.size > settings.MEDIA_UPLOAD_MAX_BYTES:
            self.add_error(
                "source",
                _("文件太大（最大 %(size)s）") % {"size": filesizeformat(settings.MEDIA_UPLOAD_MAX_BYTES)},
            )
        suffix = Path(upload.name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES[kind]:
            self.add_error(
                "source",
                _("不支持的文件类型 %(suffix)s，可上传：%(allowed)s")
                % {"suffix": suffix or "-", "allowed": " ".join(sorted(UPLOAD_SUFFIXES[kind]))},
            )
        return data


@admin.register(MediaAsset)
class MediaAssetAdmin(OwnMixin, admin.ModelAdmin):
    owner_path = "created_by"
    owner_field = "created_by"
    form = MediaAssetForm
    list_display = (
        "title",
        "kind",
        "status",
        "progress",
        "duration_seconds",
        "attempts",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("title",)
    list_select_related = ("created_by",)
    actions = ["transcode_again"]
    readonly_fields = (
        "status",
        "progress",
        "duration_seconds",
        "attempts",
        "error_text",
        "rendition_list",
        "hls_path",
        "transcoded_at",
        "created_by",
        "lessons_using",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("title", "kind", "source")
        return ("title", "kind", "source_name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # An asset keeps the file it was made from; upload a new asset to replace it.
        return fields + ("kind", "source_name") if obj is not None else fields

    @admin.display(description=_("原始文件"))
    def source_name(self, obj):
        return Path(obj.source.name).name  # private: a name, never a link

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            transaction.on_commit(partial(media_tasks.media_transcode.delay, obj.pk))
            messages.info(request, _("已上传，正在排队转码：刷新本页查看进度"))

    @admin.display(description=_("转码进度"))
    def progress(self, obj):
        return format_html(
            '<progress max="100" value="{}"></progress> {}%', obj.progress_percent, obj.progress_percent
        )

    @admin.display(description=_("错误信息"))
    def error_text(self, obj):
        return format_html("<pre>{}</pre>", obj.error) if obj.error else "-"

    @admin.display(description=_("清晰度"))
    def rendition_list(self, obj):
        return (
            ", ".join(
                r["name"] + (f" ({r['resolution']})" if r.get("resolution") else "") for r in obj.renditions
            )
            or "-"
        )

    @admin.display(description=_("使用它的课时"))
    def lessons_using(self, obj):
        lessons = list(obj.lessons.select_related("course").order_by("course_id", "position"))
        if not lessons:
            return "-"
        return format_html_join(", ", "{} · {}", ((lesson.course.title, lesson.title) for lesson in lessons))

    @admin.action(description=_("重新转码失败的音视频"), permissions=["change"])
    def transcode_again(self, request, queryset):
        queued = 0
        for asset in queryset:
            if transcode.media_asset_requeue(asset=asset):
                transaction.on_commit(partial(media_tasks.media_transcode.delay, asset.pk))
                queued += 1
        self.message_user(request, _("已重新排队 %(n)d 个（只有失败的会重新转码）") % {"n": queued})
