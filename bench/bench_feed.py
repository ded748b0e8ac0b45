"""Circle feed benchmark: page 1 of 20 of a circle with 100,000 posts, side by side with a floor.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhiquan_bench .venv/bin/python -m bench.bench_feed

The subject is GET /api/v1/circles/<id>/posts/ (JWT auth, the full middleware + DRF stack, in-process
through Django's WSGI test client): the JWT user, then ONE statement for the circle, the reader's
membership and the page of posts with authors and liked_by_me. The floor is an APIView mounted next to it for this run that returns
the SAME JSON (captured from the subject once) from a constant, with the same authentication,
permission, throttling and renderer — so the ratio shows what the database work and serialization cost.
Rounds alternate subject and floor so both see the same machine state. Prints a markdown section.
"""

from __future__ import annotations

import json
import os
import sys
import time
import types

from bench.common import django_setup, md_table, scale_arg

POSTS = 100_000
PAGE_REQUESTS = 200
SEARCH_REQUESTS = 20  # a reference figure, not a subject: enough for a stable mean
ROUNDS = 5


def _seed(*, posts: int):
    from django.db import connection

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
    from django.utils import timezone

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


def _install_floor(payload: dict) -> str:
    """Mount a floor APIView returning `payload` with the feed's auth/permission/throttle/renderer stack."""
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    import config.urls

    class FeedFloorApi(APIView):
        def get(self, request):
            return Response(payload)

    module = types.ModuleType("bench_feed_urls")
    module.urlpatterns = [path("api/v1/_bench/feed-floor/", FeedFloorApi.as_view()), *config.urls.urlpatterns]
    sys.modules["bench_feed_urls"] = module
    override_settings(ROOT_URLCONF="bench_feed_urls").enable()
    clear_url_caches()
    return "/api/v1/_bench/feed-floor/"


def _explain(sql: str) -> tuple[float, float, float]:
    """Median milliseconds of `sql`: from the client (sent, run, rows fetched; 21 runs), and PostgreSQL's
    planning and execution (5 EXPLAIN ANALYZE runs)."""
    from django.db import connection

    planning, execution, client = [], [], []
    with connection.cursor() as cursor:
        for _ in range(21):
            start = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            client.append((time.perf_counter() - start) * 1000)
        for _ in range(5):
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            planning.append(plan[0]["Planning Time"])
            execution.append(plan[0]["Execution Time"])
    return sorted(client)[10], sorted(planning)[2], sorted(execution)[2]


def main() -> None:
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import RefreshToken

    load_before = os.getloadavg()[0]
    posts = max(1000, int(POSTS * scale_arg()))
    started = time.perf_counter()
    circle, reader, total, inserted = _seed(posts=posts)
    seed_seconds = time.perf_counter() - started

    client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(reader).access_token}")
    feed_url = f"/api/v1/circles/{circle.pk}/posts/"
    first = client.get(feed_url)
    assert first.status_code == 200, first.content[:300]
    payload = first.json()
    assert len(payload["results"]) == 20 and payload["count"] == total
    floor_url = _install_floor(payload)
    floor_first = client.get(floor_url)
    assert floor_first.status_code == 200 and floor_first.json() == payload

    with CaptureQueriesContext(connection) as ctx:
        client.get(feed_url)
    feed_queries = len(ctx.captured_queries)
    feed_sql = ctx.captured_queries[-1]["sql"]  # the one statement: circle, membership and the page
    with CaptureQueriesContext(connection) as ctx:
        client.get(floor_url)
    floor_queries = len(ctx.captured_queries)

    for _ in range(20):  # warm up both
        client.get(feed_url)
        client.get(floor_url)
    timings = {"feed": 0.0, "floor": 0.0}
    requests = PAGE_REQUESTS
    for _ in range(ROUNDS):
        for name, url in (("feed", feed_url), ("floor", floor_url)):
            start = time.perf_counter()
            for _ in range(requests):
                response = client.get(url)
            timings[name] += time.perf_counter() - start
            assert response.status_code == 200
    n = requests * ROUNDS
    feed_rps, floor_rps = n / timings["feed"], n / timings["floor"]
    # search within the circle (trigram index on PostgreSQL), same client, for reference
    search_url = f"{feed_url}?q=post+4242"
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(search_url).status_code == 200
    search_queries = len(ctx.captured_queries)
    start = time.perf_counter()
    for _ in range(SEARCH_REQUESTS):
        client.get(search_url)
    search_rps = SEARCH_REQUESTS / (time.perf_counter() - start)
    ratio = feed_rps / floor_rps
    command = "BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhiquan_bench .venv/bin/python -m bench.bench_feed"
    print("## Circle feed\n")
    print(
        f"Feed API page 1 of 20 (`GET /api/v1/circles/<id>/posts/`, JWT) for a circle with {total:,} posts, "
        f"in-process through Django's WSGI test client on PostgreSQL; {n} requests each, {ROUNDS} alternating rounds. "
        "The floor returns the same JSON from a constant through the same middleware, DRF auth, permission, "
        f"throttle and renderer stack. Seeding {inserted:,} posts (bulk SQL) took {seed_seconds:.1f} s.\n"
    )
    print(
        md_table(
            ["endpoint", "requests/s", "ms/request", "queries/request"],
            [
                ["circle feed (subject)", f"{feed_rps:,.0f}", f"{1000 / feed_rps:.2f}", feed_queries],
                ["floor (constant JSON)", f"{floor_rps:,.0f}", f"{1000 / floor_rps:.2f}", floor_queries],
                [
                    f"search in circle (`?q=post 4242`, reference, {SEARCH_REQUESTS} requests)",
                    f"{search_rps:,.0f}",
                    f"{1000 / search_rps:.2f}",
                    search_queries,
                ],
            ],
        )
    )
    aim = "met" if ratio >= 0.5 and feed_queries <= 6 else "NOT met"
    print(f"\nRatio subject ÷ floor: **{ratio:.0%}** (aim ≥ 50%, ≤ 6 queries: {aim}).\n")
    statement_ms, planning_ms, execution_ms = _explain(feed_sql)
    extra_ms = 1000 / feed_rps - 1000 / floor_rps
    print(
        f"Where the feed's extra {extra_ms:.2f} ms per request goes (this run): its one statement takes "
        f"{statement_ms:.2f} ms from the client (sent, parsed, planned, run, 20 rows fetched; median of 21) "
        f"— of which PostgreSQL reports {planning_ms:.2f} ms planning and {execution_ms:.2f} ms execution "
        f"(EXPLAIN ANALYZE) —; the other {max(0.0, extra_ms - statement_ms):.2f} ms is Django building the "
        "statement, decoding the rows' JSON and dates and turning them into the payload. In "
        "process nothing dilutes that fixed cost — the floor here is a constant behind the same stack, so "
        "this is the strictest view of the feed; under gunicorn and wrk (the API section below) the same "
        "endpoint is measured against its floor again. What made it: the access check and the page are one "
        "hand-written statement (the page a `LATERAL` subquery dropped unread when access is refused), the "
        "total comes from counters kept on the circle (no `COUNT(*)` over 100,000 rows), and rows become "
        "the payload in one pass without DRF's list machinery; the first ORM version ran at 24% with 4 "
        "queries, two statements at 46–56%. Not done: a server-side prepared statement would skip the "
        "planning, but does not work behind a transaction-pooling PgBouncer (docs/scaling.md).\n"
    )
    print(
        f"Machine: {os.cpu_count()} cores, 1-minute load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after the run (other work on the machine moves both rows; the ratio "
        "is measured side by side for that reason).\n"
    )
    print(f"Command: `{command}`\n")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of the overridden urlconf


if __name__ == "__main__":
    main()
