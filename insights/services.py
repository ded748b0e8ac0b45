"""Writes of the insights app: operations reports (build, store, e-mail) and the daily link-visit snapshot."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from core import brand
from insights import selectors
from insights.metrics.base import date_param, table_name
from insights.models import LinkVisitDay, OperationsReport
from insights.periods import Period
from insights.templatetags.insights import cell, change_text
from referrals.models import ReferralLinkStat

logger = logging.getLogger(__name__)

# Tables worth reading in an e-mail; each keeps its first rows.
REPORT_TABLES = {
    "revenue_by_item_type": 8,
    "membership_movements": 8,
    "funnel_by_channel": 8,
    "top_promoters": 5,
    "promoter_refund_watch": 5,
    "renewal_pipeline": 8,
}


def report_period(kind: str, today: date | None = None) -> Period:
    """Daily: yesterday. Weekly: the last full Monday–Sunday week before today."""
    today = today or timezone.localdate()
    if kind == OperationsReport.Kind.DAILY:
        day = today - timedelta(days=1)
        return Period(day, day)
    last_sunday = today - timedelta(days=today.weekday() + 1)
    return Period(last_sunday - timedelta(days=6), last_sunday)


def report_build(*, kind: str, today: date | None = None) -> OperationsReport:
    """Compute the headline numbers of the report period and store them (the same row on a re-run)."""
    period = report_period(kind, today)
    board = selectors.dashboard(period)
    headline = [
        {
            **kpi.as_dict(),
            "value_text": cell(kpi.value, kpi.kind),
            "previous_text": cell(kpi.previous, kpi.kind),
            "change_text": change_text(kpi),
        }
        for kpi in board.kpis
    ]
    tables = {}
    for key, limit in REPORT_TABLES.items():
        table = board.table(key)
        if table is None:
            continue
        tables[key] = {
            "title": str(table.title),
            "columns": [str(c.label) for c in table.columns],
            "rows": [[cell(v, k) for k, v in row] for row in table.cells()[:limit]],
        }
    report, _created = OperationsReport.objects.update_or_create(
        kind=kind,
        period_start=period.start,
        defaults={"period_end": period.end, "headline": headline, "tables": tables},
    )
    return report


def report_send(*, report: OperationsReport) -> bool:
    """E-mail the report to OPERATIONS_REPORT_RECIPIENTS once. Returns True when this call sent it."""
    recipients = list(getattr(settings, "OPERATIONS_REPORT_RECIPIENTS", []) or [])
    if not recipients:
        return False
    # Claim the send with a conditional UPDATE: a redelivered task finds it claimed and stops.
    claimed = OperationsReport.objects.filter(pk=report.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now(), recipients=recipients
    )
    if not claimed:
        return False
    report.refresh_from_db()
    site_brand = brand.current()
    context = {"report": report, "url": f"{settings.SITE_URL}/ops/reports/{report.pk}/", "brand": site_brand}
    subject = _("%(site)s运营%(kind)s %(start)s") % {
        "site": site_brand.site_name,
        "kind": report.get_kind_display(),
        "start": report.period_start.strftime("%Y-%m-%d")
        if report.period_start == report.period_end
        else f"{report.period_start:%Y-%m-%d} ~ {report.period_end:%Y-%m-%d}",
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("insights/report_email.txt", context),
        from_email=brand.from_address(settings.DEFAULT_FROM_EMAIL, site_brand),
        to=recipients,
    )
    message.attach_alternative(render_to_string("insights/report_email.html", context), "text/html")
    try:
        message.send()
    except Exception:
        # Give the claim back so the next run retries; never mark as sent what was not sent.
        OperationsReport.objects.filter(pk=report.pk).update(emailed_at=None)
        logger.exception("operations report %s could not be e-mailed", report.pk)
        raise
    return True


def link_visits_snapshot(*, day: date | None = None) -> int:
    """Record what the referral link counters added since the last snapshot as `day`'s increments.

    One INSERT … SELECT (no rows pass through Python). Idempotent: a day that already has a snapshot,
    or a day before the latest snapshot, is left alone. Returns the number of rows written.
    """
    day = day or timezone.localdate() - timedelta(days=1)
    with transaction.atomic():
        if LinkVisitDay.objects.filter(day__gte=day).exists():
            return 0
        target, stats = table_name(LinkVisitDay), table_name(ReferralLinkStat)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {target} (day, referrer_id, channel, visits, signups)
                SELECT %s, s.user_id, s.channel, s.visits - COALESCE(d.v, 0), s.signups - COALESCE(d.s, 0)
                FROM {stats} s
                LEFT JOIN (SELECT referrer_id, channel, SUM(visits) AS v, SUM(signups) AS s
                           FROM {target} GROUP BY referrer_id, channel) d
                  ON d.referrer_id = s.user_id AND d.channel = s.channel
                WHERE s.visits - COALESCE(d.v, 0) <> 0 OR s.signups - COALESCE(d.s, 0) <> 0
                """,
                [date_param(day)],
            )
            return cursor.rowcount
