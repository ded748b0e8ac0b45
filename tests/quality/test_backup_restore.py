"""Backup and restore drill: `make backup`'s script dumps the live database, `make restore`'s script
restores it into a fresh one, and the books there are the same to the fen."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

pytestmark = pytest.mark.slow  # a long gate: `make test` runs it, `make test-fast` does not

ROOT = Path(__file__).resolve().parents[2]

LEDGER_TOTALS = """
    SELECT
      (SELECT COUNT(*) FROM payments_transaction),
      (SELECT COUNT(*) FROM payments_entry),
      (SELECT COALESCE(SUM(amount_fen) FILTER (WHERE amount_fen > 0), 0) FROM payments_entry),
      (SELECT COALESCE(SUM(amount_fen), 0) FROM payments_entry),
      (SELECT COALESCE(SUM(amount_fen), 0) FROM payments_order WHERE status = 'paid'),
      (SELECT string_agg(kind || ':' || COALESCE(user_id::text, '-') || '=' || COALESCE(balance_fen::text, '-'),
                         ',' ORDER BY kind, user_id) FROM payments_account)
"""


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _connect(name: str):
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=name,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )


def _totals(name: str):
    conn = _connect(name)
    try:
        with conn.cursor() as cursor:
            cursor.execute(LEDGER_TOTALS)
            return cursor.fetchone()
    finally:
        conn.close()


def _script(action: str, dump: Path, database: str) -> None:
    env = {**os.environ, "DATABASE_URL": _url(database)}
    result = subprocess.run(
        [str(ROOT / "scripts" / "backup.sh"), action, str(dump)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_database_keeps_the_books(tmp_path, settings):
    from payments.wallet import earnings, settlement
    from tests.factories import UserFactory
    from tests.payments.catalog import TEST_ITEM, register_test_items
    from tests.payments.helpers import create_paid_order, refund_order

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path / "sandbox_keys"
    _log, unregister = register_test_items()
    try:
        buyer, promoter = UserFactory(), UserFactory()
        orders = [create_paid_order(user=buyer, item_type=TEST_ITEM, item_id=sku) for sku in ("A", "B", "A")]
        for n, order in enumerate(orders):
            earnings.earning_accrue(
                user=promoter,
                amount_fen=1_000 + n,
                source="commission",
                idempotency_key=f"drill:{order.order_no}",
                hold_until=timezone.now() - timedelta(seconds=1),
                order=order,
            )
        settlement.settle_due(now=timezone.now())
        refund_order(order=orders[0])
    finally:
        unregister()

    live = settings.DATABASES["default"]["NAME"]
    fresh = f"{live}_restore"
    admin = _connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    try:
        dump = tmp_path / "zhiquan.dump"
        _script("backup", dump, live)
        assert dump.stat().st_size > 0
        _script("restore", dump, fresh)
        before, after = _totals(live), _totals(fresh)
        assert before[0] > 0 and before[1] > 0, "the drill must have books to compare"
        assert after == before
        assert after[3] == 0  # the restored ledger still sums to zero
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        admin.close()
