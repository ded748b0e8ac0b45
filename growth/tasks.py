"""Celery tasks of growth: thin, take ids, call one service, safe to run twice."""

from celery import shared_task

from growth.campaigns import services as campaigns
from growth.segments import tags


@shared_task(acks_late=True)
def campaigns_sweep() -> None:
    """Every minute: one slice of each due campaign (its rate limit decides how many members)."""
    for campaign_id in campaigns.campaigns_due():
        campaign_send_slice.delay(campaign_id)


@shared_task(acks_late=True)
def campaign_send_slice(campaign_id: int) -> None:
    campaigns.campaign_send_slice(campaign_id=campaign_id)


@shared_task(acks_late=True)
def rule_tags_recompute() -> None:
    """Nightly: every rule tag's members made its rule's matches again."""
    tags.rule_tags_recompute_all()
