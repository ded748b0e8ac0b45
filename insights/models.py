"""Models of the insights app: what it stores itself (it reads every other app and owns nothing else).

- `OperationsReport`: one daily or weekly operations report, kept as a page under /ops/reports/ and
  e-mailed to OPERATIONS_REPORT_RECIPIENTS. Unique per (kind, period_start): building it twice updates
  the same row, so a redelivered Celery task never sends a second report for the same period.
  Its Meta also carries the dashboard permissions that `manage.py setup_roles` hands to the staff roles.
- `LinkVisitDay`: per-day increments of the referral link counters. `referrals.ReferralLinkStat` counts
  visits and sign-ups per promoter and channel without dates; a daily snapshot turns them into days so
  the funnel can say how many visits a period had.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OperationsReport(models.Model):
    class Kind(models.TextChoices):
        DAILY = "daily", _("日报")
        WEEKLY = "weekly", _("周报")

    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"), help_text=_("含当天"))
    # The headline numbers with the previous period: [{"key", "label", "kind", "value", "previous", "definition"}].
    headline = models.JSONField(_("核心指标"), default=list)
    # Short tables (top item types, top promoters…) as {"key": {"title", "columns", "rows"}}.
    tables = models.JSONField(_("明细"), default=dict, blank=True)
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    emailed_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("运营报告")
        verbose_name_plural = _("运营报告")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start"], name="uniq_report_kind_start"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="report_period_ordered"
            ),
        ]
        permissions = [
            ("view_dashboard", _("查看运营看板")),
            ("export_reports", _("导出看板表格、订单和会员 CSV")),
            ("export_finance", _("导出佣金和提现 CSV")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start:%Y-%m-%d}"


class LinkVisitDay(models.Model):
    """Visits and sign-ups through one promoter's link on one channel, added on one day (Asia/Shanghai)."""

    day = models.DateField(_("日期"), db_index=True)
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("推广员")
    )
    channel = models.CharField(_("渠道"), max_length=20)
    visits = models.IntegerField(_("访问"), default=0)
    signups = models.IntegerField(_("注册"), default=0)

    class Meta:
        verbose_name = _("推广链接日访问")
        verbose_name_plural = _("推广链接日访问")
        constraints = [
            models.UniqueConstraint(fields=["day", "referrer", "channel"], name="uniq_link_visit_day")
        ]
        indexes = [models.Index(fields=["referrer", "channel", "day"], name="link_visit_ref_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.referrer_id}:{self.channel} +{self.visits}"
