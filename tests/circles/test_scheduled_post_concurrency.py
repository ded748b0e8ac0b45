"""Four publishing sweeps at the same instant publish each scheduled post once and notify each member
once (real PostgreSQL: SKIP LOCKED and the row lock, not luck)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from circles.models import Circle, Post
from circles.services import posts as post_services
from circles.services import scheduling
from members.models import Notification
from tests.circles import factories as f
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sweeps_at_once_publish_and_notify_exactly_once():
    circle = f.make_circle()
    members = [f.make_member(circle=circle) for _i in range(3)]
    posts = [
        post_services.post_create(
            circle=circle,
            author=circle.owner,
            body=f"定时公告 {i}",
            publish_at=timezone.now() + timedelta(minutes=5),
        )
        for i in range(4)
    ]
    due = timezone.now() + timedelta(minutes=6)
    results = run_together([lambda: scheduling.posts_publish_due(now=due, limit=1) for _i in range(4)])
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["published"] for r in results) == 4  # type: ignore[index]
    assert Post.objects.filter(pk__in=[p.pk for p in posts], status="visible").count() == 4
    for member in members:
        assert Notification.objects.filter(user=member, kind="circle_post_published").count() == 4
    assert Circle.objects.get(pk=circle.pk).visible_post_count == 4
