"""Member tags (标签) and segments (人群): who a campaign or a report is about.

A tag is set by operators (manual), by its rule (rule: the members matching a segment-style rule,
recomputed by a sweep), or by a CSV import (import). A segment is a saved rule; both rules are the
JSON that `growth.segments.rules` validates and turns into one queryset — never SQL typed by a person."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["MemberTag", "Segment", "Tag"]


class Tag(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", _("手动")
        RULE = "rule", _("规则")
        IMPORT = "import", _("导入")

    name = models.CharField(_("名称"), max_length=32, unique=True)
    colour = models.CharField(
        _("颜色"),
        max_length=7,
        blank=True,
        default="",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("请填写 #RRGGBB 格式的颜色"))],
        help_text=_("可选，如 #d93026"),
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.MANUAL)
    # Only a rule tag has one: its members are exactly the members the rule matches.
    rule = models.JSONField(_("规则"), default=dict, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    recomputed_at = models.DateTimeField(_("最近计算"), null=True, blank=True)

    class Meta:
        verbose_name = _("会员标签")
        verbose_name_plural = _("会员标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    """One member carrying one tag, and how it came there. One row per (member, tag)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("运营手动")
        RULE = "rule", _("规则")
        IMPORT = "import", _("CSV 导入")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("会员"), on_delete=models.CASCADE, related_name="member_tags"
    )
    tag = models.ForeignKey(Tag, verbose_name=_("标签"), on_delete=models.CASCADE, related_name="member_tags")
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(_("打标时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("会员的标签")
        verbose_name_plural = _("会员的标签")
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="member_tag_once")]
        indexes = [models.Index(fields=["tag", "user"], name="member_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.user} · {self.tag}"


class Segment(models.Model):
    """A saved audience: members matching every condition of its rule, computed when it is used."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    rule = models.JSONField(_("规则"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("人群")
        verbose_name_plural = _("人群")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
