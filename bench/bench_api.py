"""The mini-program API under load on loopback, each endpoint beside the constant-JSON floor, at two volumes.

    .venv/bin/python -m bench.bench_api                    # 10×-smaller and full volume, then the ratio
    .venv/bin/python -m bench.bench_api --scales 1         # one volume only
    .venv/bin/python -m bench.bench_api --seconds 5 --rounds 2
    .venv/bin/python -m bench.bench_api --scale 0.1 --only catalog,course,me   # some endpoints only

Server: gunicorn with config.settings.prod (sync workers, 2 per core, as the Dockerfile runs it) on
127.0.0.1, PostgreSQL and Redis as in production. Load: wrk, 2 threads, one connection per worker (every
worker always busy, no queue in front of them: p95 is service time under full load), each request
of a run taken in turn from a plan that rotates over 400 members' JWTs (and over the 200 courses for
the course page), so the database sees many rows rather than one hot one.

Subjects (API.md rows 2, 4, 7 and the circle feed):
- course catalog `GET /api/v1/courses/` (page 1 of 20, as a VIP member),
- course detail `GET /api/v1/courses/<id>/` (lessons with locks, progress and price),
- circle feed page 1 `GET /api/v1/circles/<id>/posts/` of the circle with 100,000 posts,
- `GET /api/v1/me/`,
- order creation `POST /api/v1/orders/` (VIP membership, channel `wechat_miniprogram`, by members whose
  membership lapsed). Production refuses the sandbox channel, so this is the real WeChat Pay path
  (wechatpayv3: merchant-signed JSAPI prepay request, platform-signed answer verified, RSA paySign for
  wx.requestPayment) against `bench.fake_wechatpay`, the test suite's fake WeChat run as a loopback
  server in its own process — it verifies our signatures and signs its answers as WeChat does. What
  it cannot show is WeChat's own latency (tens of milliseconds from a server in China): with sync
  workers that time holds a worker, so size order capacity from workers ÷ (our time + WeChat's).

Floor: `GET /api/v1/_bench/floor/` (core.apis.BenchFloorApi) — constant JSON through the same
middleware, JWT authentication (the same tokens), throttles and renderer. Each subject runs right
after its floor, round after round, so both see the same machine.

Volumes (bench.population): 100,000 members, 1,000,000 orders with their payments and events, 200
courses × 30 lessons, a circle of 100,000 posts (bench.feed_circle); `--scales 0.1,1` runs the
same at a tenth in its own database (`<bench db>_x0_1`) to show how cost grows.

Here: the runs under wrk. The in-process statement counts and order breakdown are in
bench.api_inprocess, the markdown report in bench.api_report.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api_inprocess import close_orders_created_after, order_breakdown, query_counts  # noqa: E402
from bench.api_report import report  # noqa: E402
from bench.common import ROOT, database_url  # noqa: E402
from bench.feed_circle import feed_circle_with_members  # noqa: E402

TOKENS = 400
# Order creation rotates over more members: closing their unpaid orders after each run keeps every
# member under checkout's two-unpaid-orders-per-item cap (a third is a 409) at up to 2,000 orders a run.
BUYERS = 1_000
ENDPOINTS = ["catalog", "course", "feed", "me", "order"]


def _arg(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def _selected() -> list[str]:
    """`--only a,b`: those endpoints (in ENDPOINTS order) to iterate faster; all of them by default."""
    only = set(_arg("--only", ",".join(ENDPOINTS)).split(","))
    unknown = only - set(ENDPOINTS)
    if unknown:
        raise SystemExit(f"--only: unknown endpoint(s) {sorted(unknown)}; choose from {ENDPOINTS}")
    return [name for name in ENDPOINTS if name in only]


# ---- one volume, in its own process (Django is set up once per database) -----------------------------------


def run_volume(scale: float, *, seconds: int, rounds: int) -> dict:
    os.environ["BENCH_DATABASE_URL"] = database_url(scale=scale)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["BENCHMARK_ENDPOINTS"] = "true"  # the floor's URL, for the in-process statement counts
    from bench.common import django_setup

    django_setup()
    from django.conf import settings
    from django.db import connections

    from bench import loadtest, population
    from courses.models import Course
    from payments.models import Order, OrderEvent, Payment

    def delete_run_orders() -> int:
        """Delete the orders the runs created (the buyers', not the population's); returns how many."""
        created = Order.objects.filter(user_id__in=buyers).exclude(
            order_no__startswith=population.ORDER_PREFIX
        )
        count = created.count()
        Payment.objects.filter(order__in=created).delete()
        OrderEvent.objects.filter(order__in=created).delete()
        created.delete()
        return count

    started = time.perf_counter()
    pop = population.ensure(scale=scale, log=lambda text: print(text, file=sys.stderr))
    readers = pop.active_vip_ids(TOKENS)
    buyers = pop.lapsed_ids(BUYERS)
    delete_run_orders()  # an interrupted earlier run's orders would count against checkout's pending cap
    circle, posts = feed_circle_with_members(scale, readers)
    seeded_s = time.perf_counter() - started
    course_ids = list(
        Course.objects.filter(title__startswith="压测课程")
        .order_by("sort_order")
        .values_list("id", flat=True)
    )

    db_url = os.environ["BENCH_DATABASE_URL"]
    redis_url = settings.REDIS_URL or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    env = loadtest.production_env(db_url, redis_url)
    tokens = loadtest.access_tokens(env, readers + buyers)
    reader_tokens = [tokens[i] for i in readers]
    buyer_tokens = [tokens[i] for i in buyers]
    order_body = {
        "item_type": "membership",
        "item_id": "VIP",
        "channel": "wechat_miniprogram",
        "platform": "android",
    }
    floor_path = "/api/v1/_bench/floor/"
    plans = {
        "floor": loadtest.Plan.get([floor_path], reader_tokens),
        "floor_anonymous": loadtest.Plan.get([floor_path], []),
        "catalog": loadtest.Plan.get(["/api/v1/courses/"], reader_tokens),
        "course": loadtest.Plan.get([f"/api/v1/courses/{cid}/" for cid in course_ids], reader_tokens),
        "feed": loadtest.Plan.get([f"/api/v1/circles/{circle.pk}/posts/"], reader_tokens),
        "me": loadtest.Plan.get(["/api/v1/me/"], reader_tokens),
        "order": loadtest.Plan.post("/api/v1/orders/", buyer_tokens, order_body),
    }
    last_order = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0

    timed = _selected()
    rows: dict[str, list] = {name: [] for name in timed}
    floors: dict[str, list] = {name: [] for name in timed}
    anonymous = []
    with loadtest.FakeGateway(env), loadtest.Gunicorn(env) as server:
        # Each plan answers what it should before anything is timed.
        checks = {
            "floor": ("GET", floor_path, reader_tokens[0], None),
            "catalog": ("GET", "/api/v1/courses/", reader_tokens[0], None),
            "course": ("GET", f"/api/v1/courses/{course_ids[0]}/", reader_tokens[0], None),
            "feed": ("GET", f"/api/v1/circles/{circle.pk}/posts/", reader_tokens[0], None),
            "me": ("GET", "/api/v1/me/", reader_tokens[0], None),
            "order": ("POST", "/api/v1/orders/", buyer_tokens[0], order_body),
        }
        for name, (method, path, token, body) in checks.items():
            status, payload = loadtest.call(method, path, token=token, body=body)
            assert status in (200, 201), (name, status, payload)
        status, payload = loadtest.call(*checks["order"][:2], token=buyer_tokens[1], body=order_body)
        assert status == 201 and payload["payment"]["paySign"] and payload["amount_fen"] == 360_000, payload
        status, payload = loadtest.call("GET", f"/api/v1/circles/{circle.pk}/posts/", token=reader_tokens[1])
        assert status == 200 and payload["count"] == posts and len(payload["results"]) == 20, payload
        status, payload = loadtest.call("GET", "/api/v1/me/", token=reader_tokens[2])
        assert payload["id"] == readers[2] and payload["membership"]["tier"] == "VIP", payload

        load = {"seconds": seconds, "connections": server.workers}
        # Warm as production is: every distinct GET of the plans once (the catalog cache holds each
        # course page after its first reader), then every worker's code paths and connections.
        for path in sorted({row[1] for name in ("catalog", "course", "feed") for row in plans[name].rows}):
            assert loadtest.call("GET", path, token=reader_tokens[0])[0] == 200, path
        for name in ["floor", *timed]:
            loadtest.wrk(f"warm {name}", plans[name], seconds=1, connections=server.workers)
            close_orders_created_after(last_order)
        for _round in range(rounds):
            anonymous.append(loadtest.wrk("floor (anonymous)", plans["floor_anonymous"], **load))
            for name in timed:
                floors[name].append(loadtest.wrk("floor", plans["floor"], **load))
                rows[name].append(loadtest.wrk(name, plans[name], **load))
                close_orders_created_after(last_order)  # a member's third unpaid order would be a 409
        workers = server.workers

    orders_created = delete_run_orders()

    # Statements per request, in-process, with WeChat Pay pointed at a fresh fake for the order call.
    with loadtest.FakeGateway(env):
        keys = loadtest.bench_keys()
        settings.WECHATPAY_GATEWAY_URL = f"http://127.0.0.1:{loadtest.GATEWAY_PORT}"
        settings.WECHATPAY_MCHID, settings.WECHATPAY_CERT_SERIAL_NO = "1900000001", "BENCH"
        settings.WECHATPAY_APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"
        settings.WECHATPAY_PRIVATE_KEY_PATH = str(keys / "merchant_private.pem")
        settings.WECHATPAY_PUBLIC_KEY_PATH = str(keys / "platform_public.pem")
        settings.WECHATPAY_PUBLIC_KEY_ID = "PUB_KEY_ID_BENCH"
        settings.WECHAT_MINIPROGRAM_APPID = population.MINIPROGRAM_APPID
        settings.PAYMENTS_SANDBOX_ENABLED = False
        queries = query_counts(
            {
                "floor": ("GET", floor_path, None),
                "catalog": ("GET", "/api/v1/courses/", None),
                "course": ("GET", f"/api/v1/courses/{course_ids[0]}/", None),
                "feed": ("GET", f"/api/v1/circles/{circle.pk}/posts/", None),
                "me": ("GET", "/api/v1/me/", None),
                "order": ("POST", "/api/v1/orders/", order_body),
            },
            {"floor": readers[3], "order": buyers[3], **{n: readers[3] for n in ENDPOINTS if n != "order"}},
        )
        breakdown = order_breakdown(buyers[4:44], floor_path, order_body) if "order" in timed else None
        delete_run_orders()

    db = connections["default"].settings_dict

    def combine(results) -> dict:
        total = sum(r.requests for r in results)
        return {
            "rps": statistics.mean(r.rps for r in results),
            "p50_ms": statistics.median(r.p50_ms for r in results),
            "p95_ms": statistics.median(r.p95_ms for r in results),
            "p99_ms": statistics.median(r.p99_ms for r in results),
            "errors": sum(r.errors for r in results),
            "requests": total,
            "rounds": [r.as_dict() for r in results],
        }

    return {
        "scale": scale,
        "database": f"{db.get('HOST')}/{db.get('NAME')}",
        "members": pop.members,
        "orders": pop.orders,
        "courses": pop.courses,
        "posts": posts,
        "seeded": pop.inserted,
        "seed_seconds": seeded_s,
        "workers": workers,
        "seconds": seconds,
        "rounds": rounds,
        "orders_created": orders_created,
        "queries": queries,
        "order_breakdown": breakdown,
        "anonymous_floor": combine(anonymous),
        "endpoints": {
            name: {"subject": combine(rows[name]), "floor": combine(floors[name])} for name in timed
        },
    }


def main() -> None:
    seconds = int(_arg("--seconds", os.environ.get("BENCH_API_SECONDS", "5")))
    rounds = int(_arg("--rounds", os.environ.get("BENCH_API_ROUNDS", "2")))
    if "--volume" in sys.argv:  # child: one volume, JSON to the file named by --json
        result = run_volume(float(_arg("--volume", "1")), seconds=seconds, rounds=rounds)
        Path(_arg("--json", "")).write_text(json.dumps(result), encoding="utf-8")
        return
    if "--scale" in sys.argv:  # make bench ARGS="--scale 0.1": a quick run at one volume
        scales = [float(_arg("--scale", "1"))]
    else:
        scales = [float(s) for s in _arg("--scales", "0.1,1").split(",")]
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    volumes = []
    for scale in scales:
        target = out_dir / f"bench_api-{scale:g}.json"
        target.unlink(missing_ok=True)
        print(f"bench_api: volume {scale:g}", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.bench_api",
                "--volume",
                str(scale),
                "--json",
                str(target),
                "--seconds",
                str(seconds),
                "--rounds",
                str(rounds),
                "--only",
                ",".join(_selected()),
            ],
            cwd=ROOT,
            check=True,
        )
        volumes.append(json.loads(target.read_text(encoding="utf-8")))
    command = "BENCH_DATABASE_URL=… .venv/bin/python -m bench.bench_api " + " ".join(sys.argv[1:])
    print(report(volumes, command.strip(), tokens=TOKENS, buyers=BUYERS))


if __name__ == "__main__":
    main()
