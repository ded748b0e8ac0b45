"""Hostile bodies over every operation of /api/schema/: nested, huge and invalid UTF-8.

Schemathesis (test_api_fuzz.py) generates bodies that fit the schema; attackers send ones that do not.
Every operation, anonymous and signed in, gets each body below and must answer 4xx (or its usual 2xx
for operations that ignore a body) with the `{code, message, fields}` shape — never a 500, never a
RecursionError. Kept under a few seconds: the parser refuses these before any view works.
"""

from __future__ import annotations

import json
import re

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # every operation x hostile bodies

BODIES = {
    "nested-50k": b"[" * 50_000 + b"]" * 50_000,
    "nested-objects-64": b'{"a":' * 64 + b"1" + b"}" * 64,
    "huge-2MiB": b'{"x": "' + b"A" * (2 * 1024 * 1024) + b'"}',
    "invalid-utf8": b'{"code": "\xff\xfe\xc3\x28", "reason": "\xed\xa0\x80"}',
    "nul-and-bidi": json.dumps({"code": "\x00\u202e\u200b", "reason": "\x00", "item_id": "١"}).encode(),
}


def _operations() -> list[tuple[str, str]]:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    found = []
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method, concrete))
    return found


def test_every_operation_answers_hostile_bodies_without_a_server_error():
    member = UserFactory()
    callers = {
        "anonymous": APIClient(raise_request_exception=False),
        "member": APIClient(raise_request_exception=False),
    }
    callers["member"].force_authenticate(member)
    operations = _operations()
    assert len(operations) > 90, len(operations)
    failures = []
    requests = 0
    for method, path in operations:
        for who, client in callers.items():
            for name, body in BODIES.items():
                response = client.generic(method.upper(), path, body, content_type="application/json")
                requests += 1
                if response.status_code >= 500:
                    failures.append((who, method, path, name, response.status_code))
                elif response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
                    if not {"code", "message"} <= set(response.json()):
                        failures.append((who, method, path, name, "error shape"))
    print(f"hostile bodies: {len(operations)} operations, {requests} requests")
    assert not failures, failures[:10]
