"""The API benchmark's in-process measurements, taken beside the wrk runs with the same code and database
through Django's test client: SQL statements per request, and where an order creation's time goes.

Django is set up by `bench.bench_api.run_volume` after this module is imported, so the functions import
Django and the apps inside their bodies.
"""

from __future__ import annotations

import json
import time

from bench.common import adding_time_to


def close_orders_created_after(last_order_id: int) -> None:
    """Close the pending orders a timed run created, as the sweep closes unpaid ones.

    Checkout refuses a third unpaid order of the same item for one member (too_many_pending_orders,
    409): without this, a member's third order in a run would time a refusal, not a checkout.
    """
    from payments.models import Order

    Order.objects.filter(id__gt=last_order_id, status=Order.Status.PENDING).update(status=Order.Status.CLOSED)


def query_counts(paths: dict[str, tuple[str, str, dict | None]], user_ids: dict[str, int]) -> dict[str, int]:
    """SQL statements per request, counted in-process (test client, same database and code)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from members.models import User

    counts = {}
    for name, (method, path, body) in paths.items():
        user = User.objects.get(pk=user_ids[name])
        client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        send = (
            (lambda c=client, p=path: c.get(p))
            if method == "GET"
            else (
                lambda c=client, p=path, b=body: c.post(
                    p, data=json.dumps(b), content_type="application/json"
                )
            )
        )
        send()  # warm (first-use caches)
        with CaptureQueriesContext(connection) as captured:
            response = send()
        assert response.status_code in (200, 201), (name, response.status_code, response.content[:300])
        counts[name] = len(captured.captured_queries)
    return counts


def order_breakdown(buyer_ids: list[int], floor_path: str, order_body: dict, *, rounds: int = 3) -> dict:
    """Where an order creation's time goes, in-process and one request at a time, beside the floor.

    wrk can only time the whole request, and the prepay round trip to WeChat is part of it while the
    floor makes none. Here the same code (test client, WeChat Pay at the fake) creates orders while
    the gateway's `prepay` and the SDK's HTTP call inside it are timed, then the same members' tokens
    call the floor; rounds alternate so both see the same machine.
    """
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken
    from wechatpayv3 import core as wechatpay_core

    import payments.gateways.wechatpay as wechatpay
    from members.models import User
    from payments.models import Order

    last_order_id = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    clients = [
        Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        for user in User.objects.filter(pk__in=buyer_ids)
    ]
    spent = {"prepay": 0.0, "http": 0.0}

    prepay, http, post = (
        wechatpay.WeChatPayGateway.prepay,
        wechatpay_core.requests,
        wechatpay_core.requests.post,
    )
    wechatpay.WeChatPayGateway.prepay = adding_time_to(spent, "prepay", prepay)
    http.post = adding_time_to(
        spent, "http", post
    )  # the SDK's `requests.post(…)`: the round trip to the fake
    body = json.dumps(order_body)
    order_s = floor_s = 0.0
    try:
        for client in clients:  # warm: first-use caches and connections are not the per-request cost
            client.get(floor_path)
        spent.update(prepay=0.0, http=0.0)
        for _round in range(rounds):
            start = time.perf_counter()
            for client in clients:
                response = client.post("/api/v1/orders/", data=body, content_type="application/json")
                assert response.status_code == 201, response.content[:300]
            order_s += time.perf_counter() - start
            close_orders_created_after(last_order_id)
            start = time.perf_counter()
            for client in clients:
                assert client.get(floor_path).status_code == 200
            floor_s += time.perf_counter() - start
    finally:
        wechatpay.WeChatPayGateway.prepay, http.post = prepay, post
    n = len(clients) * rounds
    return {
        "requests": n,
        "order_ms": order_s / n * 1000,
        "prepay_ms": spent["prepay"] / n * 1000,
        "http_ms": spent["http"] / n * 1000,
        "floor_ms": floor_s / n * 1000,
    }
