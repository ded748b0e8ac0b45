"""Celery tasks of the insights app: the operations reports and the link-visit snapshot. Idempotent."""

from celery import shared_task

from insights import services
from insights.models import OperationsReport


@shared_task(acks_late=True)
def daily_report() -> int:
    report = services.report_build(kind=OperationsReport.Kind.DAILY)
    services.report_send(report=report)
    return report.pk


@shared_task(acks_late=True)
def weekly_report() -> int:
    report = services.report_build(kind=OperationsReport.Kind.WEEKLY)
    services.report_send(report=report)
    return report.pk


@shared_task(acks_late=True)
def link_visits_snapshot() -> int:
    return services.link_visits_snapshot()


@shared_task(acks_late=True)
def cohorts_refresh() -> int:
    """Recompute the cumulative cohort tables into the cache (operators never wait for them)."""
    from django.conf import settings
    from django.utils import translation

    from insights.selectors import cohort_tables

    with translation.override(settings.LANGUAGE_CODE):
        return len(cohort_tables(refresh=True))
