"""Schemathesis over every operation of /api/schema/, anonymous and authenticated.

Gates (issue "Quality gates"): zero server errors, zero responses that break the schema (bodies and
documented status codes), and every protected operation refuses anonymous callers. Requests go
in-process through Django's WSGI app, so the whole middleware/DRF stack is exercised.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow  # a long gate: `make test` runs it, `make test-fast` does not

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """Like Django's test client: requests must not close the connection holding the test's
    transaction (close_old_connections would, because autocommit is off inside it)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _load_schema():
    # Loaded at import (Django is configured by then; the schema view touches no database):
    # schemathesis' fixture-based lazy loader does not work with pytest 9.2.
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _load_schema()


def _reaches_a_view(response) -> bool:
    """False when the generated path matches no URL at all (a resolver 404 says nothing about auth)."""
    from urllib.parse import unquote, urlparse

    from django.urls import Resolver404, resolve

    try:
        resolve(unquote(urlparse(response.request.url).path))
    except Resolver404:
        return False
    return True


def _is_protected(case) -> bool:
    security = case.operation.definition.raw.get("security", [{}])
    return {} not in security


# Uncompressed answers: the schemathesis transport asks for gzip and hands the check the compressed
# bytes (GZipMiddleware), which no schema describes. Compression is the transport's business.
PLAIN = {"Accept-Encoding": "identity"}

fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@fuzz_settings
def test_anonymous_callers_get_documented_answers_and_protected_operations_refuse_them(case, world, db):
    response = case.call(headers=PLAIN)
    case.validate_response(response, checks=CHECKS, headers=PLAIN)
    if _is_protected(case) and _reaches_a_view(response):
        assert response.status_code == 401, (case.operation.label, response.status_code, response.text[:300])


@schema.parametrize()
@fuzz_settings
def test_authenticated_member_gets_no_server_error_and_schema_conformant_answers(case, world, db):
    headers = {**PLAIN, **world.bearer(world.member)}
    response = case.call(headers=headers)
    case.validate_response(response, checks=[*CHECKS, ignored_auth], headers=headers)


# Money endpoints get deeper fuzzing: more examples per operation, signed in, where a 500 or a body
# the schema does not allow would cost real money (orders, refunds, tips, withdrawals, group buys,
# redemptions). Bodies that do not fit the schema at all are in test_api_fuzz_bodies.py.
MONEY_EXAMPLES_PER_OPERATION = 50
money_schema = schema.include(
    path_regex=r"^/api/v1/(orders|wallet|circles/tips|referrals/group-buys|points/rewards|redeem-codes|coupons)",
    method="POST",
)


@money_schema.parametrize()
@settings(
    max_examples=MONEY_EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_money_operations_take_deeper_fuzzing_without_a_server_error(case, world, db):
    headers = {**PLAIN, **world.bearer(world.member)}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
