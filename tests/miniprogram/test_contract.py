"""Schema-driven contract: every field the mini-program sends or reads (miniprogram/contract/fields.json)
exists in the server's OpenAPI schema. A field that disappears, or an operation that moves, fails here
with its name."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

FIELDS = Path(__file__).resolve().parents[2] / "miniprogram" / "contract" / "fields.json"


@pytest.fixture(scope="module")
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        elif "oneOf" in node and len(node["oneOf"]) == 1:
            node = node["oneOf"][0]
        else:
            return node


def _has_field(schema: dict, node: dict, dotted: str) -> bool:
    node = _resolve(schema, node)
    for part in dotted.split("."):
        is_array = part.endswith("[]")
        name = part[:-2] if is_array else part
        if name:
            node = node.get("properties", {}).get(name)
            if node is None:
                return False
            node = _resolve(schema, node)
        if is_array:
            if node.get("type") != "array":
                return False
            node = _resolve(schema, node["items"])
    return True


def contract_problems(schema: dict, contract: dict) -> list[str]:
    problems = []
    for operation, wanted in contract.items():
        if operation.startswith("_"):
            continue
        method, path = operation.split(" ", 1)
        op = schema["paths"].get(path, {}).get(method.lower())
        if op is None:
            problems.append(f"{operation}: no such operation in the schema")
            continue
        bodies = op.get("requestBody", {}).get("content", {})
        request = bodies.get("application/json", {}).get("schema")
        for field in wanted.get("request", []):
            if request is None or not _has_field(schema, request, field):
                problems.append(f"{operation}: request field {field!r} is not in the schema")
        responses = [
            r["content"]["application/json"]["schema"]
            for code, r in op.get("responses", {}).items()
            if str(code).startswith("2") and "application/json" in r.get("content", {})
        ]
        for field in wanted.get("response", []):
            if not any(_has_field(schema, response, field) for response in responses):
                problems.append(f"{operation}: response field {field!r} is not in the schema")
    return problems


def test_every_field_the_client_uses_is_in_the_schema(schema):
    contract = json.loads(FIELDS.read_text())
    assert len(contract) > 10
    assert contract_problems(schema, contract) == []


def test_the_check_fails_when_a_field_disappears(schema):
    contract = json.loads(FIELDS.read_text())
    doctored = copy.deepcopy(schema)
    doctored["components"]["schemas"]["OrderDetail"]["properties"].pop("paid_at")
    del doctored["paths"]["/api/v1/referrals/me/"]
    assert contract_problems(doctored, contract) == [
        "GET /api/v1/orders/{order_no}/: response field 'paid_at' is not in the schema",
        "GET /api/v1/referrals/me/: no such operation in the schema",
    ]


def test_the_client_reads_only_fields_listed_in_the_contract():
    """The lists stay honest: each listed response field's last name appears in the client's code."""
    root = FIELDS.parent.parent / "app"
    code = "\n".join(p.read_text() for p in root.rglob("*.js"))
    contract = json.loads(FIELDS.read_text())
    for operation, wanted in contract.items():
        if operation.startswith("_"):
            continue
        for field in wanted.get("request", []) + wanted.get("response", []):
            leaf = field.split(".")[-1].removesuffix("[]")
            assert leaf in code, f"{operation}: {field} is listed but the client never uses {leaf!r}"
