"""Concurrent likes keep the counter exact (real PostgreSQL, threads)."""

import threading

import pytest
from django.db import connection

from circles.models import Post, PostLike
from circles.services import posts as post_services
from tests.circles import factories as f


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_keep_counts_exact(circle):
    author = f.make_member(circle=circle)
    likers = [f.make_member(circle=circle) for _ in range(12)]
    post = post_services.post_create(circle=circle, author=author, body="热门帖子")
    barrier = threading.Barrier(len(likers) * 2)
    errors = []

    def like(user):
        try:
            barrier.wait()
            post_services.post_like(post=post, user=user)  # each member double-taps at the same moment
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(u,)) for u in likers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    post.refresh_from_db()
    assert post.like_count == len(likers) == PostLike.objects.filter(post=post).count()

    # and concurrent unlikes bring it back to zero exactly
    barrier = threading.Barrier(len(likers))

    def unlike(user):
        try:
            barrier.wait()
            post_services.post_unlike(post=post, user=user)
        finally:
            connection.close()

    threads = [threading.Thread(target=unlike, args=(u,)) for u in likers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Post.objects.get(pk=post.pk).like_count == 0
