"""The circle the feed is benchmarked on, shared by bench_feed (its subject) and bench_api (the feed
endpoint under load): bulk-inserted posts, a reader with likes, and paid members for the API run.

Django is set up by each benchmark's `main` after this module is imported, so the functions import
models and services inside their bodies.
"""

from __future__ import annotations


def seed_feed_circle(*, posts: int):
    """The circle `bench-feed` with `posts` visible posts by 50 authors, and a reader who is a member and
    liked every third of the newest 300. Tops up what an earlier run left. Returns (circle, reader,
    visible posts, posts inserted now)."""
    from django.db import connection
    from django.utils import timezone

    from circles.models import Circle, CircleMembership, Post
    from circles.services import circles as circle_services
    from members.models import User

    owner, _ = User.objects.get_or_create(username="bench-feed-owner", defaults={"nickname": "压测圈主"})
    reader, _ = User.objects.get_or_create(username="bench-feed-reader", defaults={"nickname": "压测读者"})
    circle = Circle.objects.filter(name="bench-feed", owner=owner).first()
    if circle is None:
        circle = circle_services.circle_create(
            owner=owner, name="bench-feed", price_fen=19_900, rules_body="公约"
        )
    authors = []
    for i in range(50):
        user, _ = User.objects.get_or_create(
            username=f"bench-feed-author-{i}", defaults={"nickname": f"作者{i}"}
        )
        authors.append(user.pk)
    now = timezone.now()
    CircleMembership.objects.update_or_create(
        circle=circle,
        user=reader,
        defaults={
            "role": "member",
            "status": "active",
            "joined_at": now,
            "expires_at": now + timezone.timedelta(days=365),
            "accepted_rules_version": circle.rules_version,
        },
    )
    existing = Post.objects.filter(circle=circle).count()
    inserted = max(0, posts - existing)
    if existing < posts:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO circles_post (created_at, updated_at, circle_id, author_id, kind, title, body, images,
                    tags, status, is_pinned, is_featured, featured_at, question_id, is_answered, like_count,
                    comment_count, tip_count, tip_total_fen, moderation_note)
                SELECT now() - (g || ' minutes')::interval, now(), %s,
                       (%s::bigint[])[1 + (g %% 50)],
                       (ARRAY['talk','question','homework'])[1 + (g %% 3)],
                       'bench post ' || g,
                       repeat('私域运营与社群增长的实践分享。', 8) || g,
                       '[]'::jsonb, '["运营","增长"]'::jsonb, 'visible', false, (g %% 50 = 0),
                       CASE WHEN g %% 50 = 0 THEN now() - (g || ' minutes')::interval END,
                       NULL, false, g %% 17, g %% 7, g %% 3, (g %% 3) * 500, ''
                FROM generate_series(%s, %s) AS g
                """,
                [circle.pk, authors, existing + 1, posts],
            )
            # the reader liked every third of the newest 300 posts
            cursor.execute(
                """
                INSERT INTO circles_postlike (post_id, user_id, created_at)
                SELECT id, %s, now() FROM (
                    SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS n
                    FROM circles_post WHERE circle_id = %s ORDER BY created_at DESC, id DESC LIMIT 300) t
                WHERE n %% 3 = 0
                ON CONFLICT DO NOTHING
                """,
                [reader.pk, circle.pk],
            )
    with connection.cursor() as cursor:
        # always, not only after inserting: a database seeded by an interrupted run would otherwise be
        # measured with whatever statistics it happened to have
        cursor.execute("ANALYZE circles_post; ANALYZE circles_postlike; ANALYZE circles_circlemembership")
    total = Post.objects.filter(circle=circle, status="visible").count()
    featured = Post.objects.filter(circle=circle, status="visible", is_featured=True).count()
    Circle.objects.filter(pk=circle.pk).update(visible_post_count=total, featured_post_count=featured)
    circle.refresh_from_db()
    return circle, reader, total, inserted


def feed_circle_with_members(scale: float, member_ids: list[int]):
    """The feed circle (100,000 posts at full volume) with `member_ids` as paid members: the API
    benchmark's token holders read its feed. Returns (circle, visible posts)."""
    from django.utils import timezone

    from circles.models import CircleMembership

    circle, _reader, total, _inserted = seed_feed_circle(posts=max(1000, int(100_000 * scale)))
    now = timezone.now()
    CircleMembership.objects.bulk_create(
        [
            CircleMembership(
                circle=circle,
                user_id=uid,
                role="member",
                status="active",
                joined_at=now,
                expires_at=now + timezone.timedelta(days=365),
                accepted_rules_version=circle.rules_version,
            )
            for uid in member_ids
        ],
        ignore_conflicts=True,
    )
    return circle, total
