"""Celery tasks of the insights app: the operations reports and the link-visit snapshot. Idempotent."""

from celery import shared_task
from django.conf import settings
from django.utils import translation

from insights import services
from insights.models import OperationsReport
from insights.selectors import cohort_tables


@shared_task(acks_late=True)
def daily_report() -> int:
    report = services.report_build(kind=OperationsReport.Kind.DAILY)
    report_email.delay(report.pk)
    return report.pk


@shared_task(acks_late=True)
def weekly_report() -> int:
    report = services.report_build(kind=OperationsReport.Kind.WEEKLY)
    report_email.delay(report.pk)
    return report.pk


# Its own task, retried by report id: the next daily run builds a different day, so a mail server that
# is down at 08:00 would otherwise lose that report's e-mail for good. report_send gives its claim back
# when sending fails (smtplib's errors are OSErrors) and sends at most once, so a retry is safe.
@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=False,
    max_retries=8,
)
def report_email(report_id: int) -> bool:
    return services.report_send(report=OperationsReport.objects.get(pk=report_id))


@shared_task(acks_late=True)
def link_visits_snapshot() -> int:
    return services.link_visits_snapshot()


@shared_task(acks_late=True)
def cohorts_refresh() -> int:
    """Recompute the cumulative cohort tables into the cache (operators never wait for them)."""
    with translation.override(settings.LANGUAGE_CODE):
        return len(cohort_tables(refresh=True))
